"""The prediction log: one JSON line per answered request, partitioned by day, durable before the answer.

Layout: ``<dir>/date=YYYY-MM-DD/<host>-<pid>.jsonl`` (one file per server process and UTC day;
processes, and pods on a shared volume, never share a file). :meth:`PredictionLog.append` writes the line with one ``os.write`` on an
``O_APPEND`` descriptor and ``os.fsync``\\s it before returning, and the endpoint answers only after
that: a crash can tear the line being written, never lose an acknowledged request.
:func:`read_prediction_log` reads a day back for monitoring and skips a torn last line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class PredictionLog:
    """Appends request records to ``<directory>/date=<day>/<host>-<pid>.jsonl``; thread-safe."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._files: dict[str, int] = {}
        self.appended = 0

    def _fd(self, day: str) -> int:
        fd = self._files.get(day)
        if fd is None:
            folder = self.directory / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(
                folder / f"{socket.gethostname()}-{os.getpid()}.jsonl",
                os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                0o640,
            )
            self._files[day] = fd
            _fsync_dir(folder)  # the new file's directory entry survives a crash too
        return fd

    def append(self, record: dict[str, Any]) -> None:
        """Durably append ``record`` (its ``received_at``, a UTC datetime, picks the day)."""
        received: dt.datetime = record["received_at"]
        line = (json.dumps(record, default=_default, allow_nan=False) + "\n").encode()
        with self._lock:
            fd = self._fd(received.date().isoformat())
            os.write(fd, line)  # one O_APPEND write: lines of concurrent requests never interleave
            self.appended += 1
        os.fsync(fd)  # outside the lock: concurrent requests' fsyncs overlap instead of queueing

    def close(self) -> None:
        with self._lock:
            for fd in self._files.values():
                os.close(fd)
            self._files.clear()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _records(path: Path) -> list[dict[str, Any]]:
    lines = path.read_bytes().split(b"\n")
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):  # the last line, without its newline: torn by a crash
                continue
            raise ValueError(
                f"{path}: line {number} is not JSON (the log is corrupt, not just torn)"
            ) from None
    return out


def read_prediction_log(directory: str | Path, day: str | dt.date) -> Any:
    """One day of the log as a DataFrame, one row per scored row: ``request_id``, ``received_at``,
    ``model_name``, ``model_version``, ``row`` (index in its request), the input fields, and
    ``prediction``. A torn last line (a crash mid-write, never acknowledged) is skipped."""
    import pandas as pd

    folder = Path(directory) / f"date={day.isoformat() if isinstance(day, dt.date) else day}"
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        for record in _records(path):
            meta = {k: record[k] for k in ("request_id", "received_at", "model_name", "model_version")}
            for index, (row, prediction) in enumerate(
                zip(record["rows"], record["predictions"], strict=True)
            ):
                out.append({**meta, "row": index, **row, "prediction": prediction})
    frame = pd.DataFrame(
        out,
        columns=None
        if out
        else ["request_id", "received_at", "model_name", "model_version", "row", "prediction"],
    )
    if not frame.empty:
        frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True, format="ISO8601")
    return frame
