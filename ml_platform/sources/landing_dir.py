"""Landing directory source: one file per table and day, ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet``,
or one per hour named by its hourly partition key (``<YYYY-MM-DD-HH:MM>[±HHMM].csv|.parquet``)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pandas as pd
from pydantic import Field

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.sources.base import (
    FORMATS,
    SOURCE_COLUMN,
    DaySource,
    SourceOptions,
    fingerprint,
    is_hour_key,
    is_iso_day,
    read_delivery,
    register_source,
    retry_fields,
)
from ml_platform.sources.retry import PermanentSourceError

if TYPE_CHECKING:
    from ml_platform.specs.models import SourceSpec


class LandingDirOptions(SourceOptions):
    path: str  # absolute, or relative to the environment's home (e.g. ``landing``)
    quiet_seconds: float = Field(default=5.0, ge=0)  # settled: unchanged (size, mtime) this long
    done_marker: str | None = None  # e.g. ".done": a file counts once "<file>.done" exists


@register_source
class LandingDirSource(DaySource):
    """A landing directory: ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet`` per day and
    ``<path>/<table>.csv|.parquet`` for unpartitioned tables. A day may come instead as hour files
    named by their hourly partition keys, ``2013-11-03-01:00.csv`` and, for the repeated hour when
    clocks go back, ``2013-11-03-01:00-0500.csv`` (its second pass, with its UTC offset): the day
    is read as all its hour files, each row keyed by its file's hour (cleaning checks it)."""

    source_kind: ClassVar[str] = "landing_dir"
    Options: ClassVar[type[SourceOptions]] = LandingDirOptions

    path: str
    quiet_seconds: float = 5.0
    done_marker: str | None = None

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> LandingDirSource:
        opts = cls.options(source)
        path = Path(opts.path)
        return cls(
            path=str(path if path.is_absolute() else home / path),
            quiet_seconds=opts.quiet_seconds,
            done_marker=opts.done_marker,
            **retry_fields(source.retry),
        )

    def uri(self, table: str) -> str:
        return (Path(self.path) / table).resolve().as_uri()

    @staticmethod
    def _find(base: Path) -> Path | None:
        found = [c for c in (base.with_name(base.name + ext) for ext in FORMATS) if c.exists()]
        if len(found) > 1:
            names = " and ".join(f.name for f in found)
            raise PermanentSourceError(
                f"landing source: ambiguous delivery {names} in {base.parent}: remove the stale one"
            )
        return found[0] if found else None

    def _read(self, file: Path) -> pd.DataFrame:
        frame = read_delivery(file.read_bytes(), file.name, f"landing source {file}")
        frame[SOURCE_COLUMN] = frame.attrs[SOURCE_COLUMN] = file.resolve().as_uri()
        return frame

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, ...]) -> pd.DataFrame:
        folder = Path(self.path) / table
        file = self._find(folder / day.isoformat())
        hours = self._hour_files(folder, day)
        if file is not None and hours:
            raise PermanentSourceError(
                f"landing source: ambiguous delivery {file.name} and {len(hours)} hour file(s) for "
                f"table '{table}' on {day} in {folder}: remove the stale one"
            )
        if file is not None:
            return self._read(file)
        if not hours:
            raise PermanentSourceError(
                f"landing source: no delivery for table '{table}' on {day} under {self.path}"
            )
        frames = []
        for hour in hours:
            frame = self._read(hour)
            frame[PARTITION_COLUMN] = hour.name.partition(".")[0]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def _hour_files(folder: Path, day: dt.date) -> list[Path]:
        prefix = f"{day.isoformat()}-"
        try:  # one C-level listing, not a glob: a backfill asks this for every day of a big folder
            names = [n for n in os.listdir(folder) if n.startswith(prefix)]
        except FileNotFoundError:
            names = []
        found = [
            folder / n
            for n in sorted(names, key=lambda n: n.partition(".")[0])
            if "." + n.partition(".")[2] in FORMATS and is_hour_key(n.partition(".")[0])
        ]
        stems = [f.name.partition(".")[0] for f in found]
        twice = sorted({s for s in stems if stems.count(s) > 1})
        if twice:
            raise PermanentSourceError(
                f"landing source: ambiguous delivery for hour(s) {twice} in {folder}: remove the stale one"
            )
        return found

    def _fetch_static(self, table: str) -> pd.DataFrame:
        file = self._find(Path(self.path) / table)
        if file is None:
            raise PermanentSourceError(f"landing source: no file for table '{table}' under {self.path}")
        return self._read(file)

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        """Settled, unambiguous days only (see :meth:`delivery_notes` for the others)."""
        return self._scan(table)[0]

    def delivery_notes(self, table: str) -> list[str]:
        return self._scan(table)[1]

    def _scan(self, table: str) -> tuple[dict[str, str], list[str]]:
        """Days → fingerprint, and a note per file that is not (yet) a delivery: a name the layout
        does not know, two files for one day, a file still being written or without its marker."""
        folder = Path(self.path) / table
        files = sorted(f for f in folder.iterdir() if not f.name.startswith(".")) if folder.is_dir() else []
        marker = self.done_marker
        markers = {f.name for f in files if marker and f.name.endswith(marker)}
        by_day: dict[str, list[Path]] = {}
        odd: list[str] = []
        for file in files:
            if file.name in markers:
                continue
            stem, _, ext = file.name.partition(".")
            if "." + ext not in FORMATS:
                odd.append(f"{file.name} (not .csv or .parquet)")
            elif not (is_iso_day(stem) or is_hour_key(stem)):
                odd.append(f"{file.name} (not a date)")
            else:
                by_day.setdefault(stem[:10], []).append(file)
        notes = (
            [f"table '{table}': ignored {len(odd)} file(s) with unknown names: {', '.join(odd[:5])}"]
            if odd
            else []
        )
        found: dict[str, str] = {}
        now = time.time()
        for day, candidates in sorted(by_day.items()):
            stems = [c.name.partition(".")[0] for c in candidates]
            if len(set(stems)) < len(stems) or (day in stems and len(stems) > 1):
                names = " and ".join(c.name for c in candidates)
                notes.append(
                    f"table '{table}' day {day}: ambiguous delivery {names}, not read: remove the stale one"
                )
                continue
            waiting = [n for c in candidates if (n := self._unsettled(c, markers, now))]
            if waiting:
                notes.extend(f"table '{table}' day {day}: {n}" for n in waiting)
                continue
            stats = [(c.name, c.stat()) for c in candidates]
            found[day] = fingerprint(*(p for n, st in stats for p in (n, st.st_size, st.st_mtime_ns)))
        return found, notes

    def _unsettled(self, file: Path, markers: set[str], now: float) -> str | None:
        """Why ``file`` is not a delivery yet (its done marker missing, or changed too recently)."""
        marker = self.done_marker
        if marker and file.name + marker not in markers:
            return f"{file.name} waits for its done marker {file.name}{marker}"
        age = now - file.stat().st_mtime
        if not marker and age < self.quiet_seconds:
            return (
                f"{file.name} changed {age:.1f}s ago, not settled yet (quiet period {self.quiet_seconds:g}s)"
            )
        return None
