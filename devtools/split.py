"""Whole files (a CSV or Parquet file each, or a file an installed package ships) read as a
spec's tables and split into days by its ``partitioning.time``: what ``replay --from`` publishes."""

from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.time import row_times
from ml_platform.sources.base import SOURCE_COLUMN
from ml_platform.specs.models import PipelineSpec


def locate(text: str) -> Path:
    """A file path, or ``PACKAGE:RESOURCE`` (a file inside an installed package, found without
    importing it), e.g. ``vega_datasets:_data/seattle-weather.csv``."""
    package, sep, resource = text.partition(":")
    if sep and not Path(text).exists() and package.isidentifier():
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise ValueError(f"--from {text}: package '{package}' is not installed")
        path = Path(list(found.submodule_search_locations)[0]) / resource
    else:
        path = Path(text)
    if not path.is_file():
        raise ValueError(f"--from {text}: no such file {path}")
    return path


def read_table_file(path: Path) -> pd.DataFrame:
    # as text: the file's values reach the landing layout unchanged; cleaning types them
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


@dataclass
class FileTables:
    """Tables by name, each from one file; ``fetch_days`` gives a day's rows by the spec's time."""

    spec: PipelineSpec
    files: dict[str, Path]
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    _days: dict[str, pd.Series] = field(default_factory=dict)

    @classmethod
    def from_arguments(cls, spec: PipelineSpec, arguments: list[str]) -> FileTables:
        files: dict[str, Path] = {}
        known = {t.table for t in [spec.main_table, *spec.auxiliary_tables]}
        for argument in arguments:
            table, sep, rest = argument.partition("=")
            if not sep:
                table, rest = spec.main_table.table, argument
            if table not in known:
                raise ValueError(f"--from {argument}: spec '{spec.name}' has no table '{table}'")
            files[table] = locate(rest)
        return cls(spec, files)

    def _frame(self, table: str) -> pd.DataFrame:
        if table not in self.files:
            raise ValueError(f"replay --from: no file given for table '{table}' (use --from {table}=FILE)")
        if table not in self._frames:
            frame = read_table_file(self.files[table])
            time = self.spec.partitioning.time_spec
            missing = [c for c in time.columns if c not in frame]
            if missing:
                raise ValueError(f"{self.files[table]}: no time column(s) {missing} (partitioning.time)")
            days = row_times(frame, time).dt.strftime("%Y-%m-%d")
            unreadable = int(days.isna().sum())
            if unreadable:
                print(f"{self.files[table]}: {unreadable} row(s) without a readable time are not published")
            self._frames[table], self._days[table] = frame, days
        return self._frames[table]

    def fetch_days(self, table: str, start: dt.date, end: dt.date, day_columns: object) -> pd.DataFrame:
        frame = self._frame(table)
        days = self._days[table]
        mask = (days >= start.isoformat()) & (days <= end.isoformat())
        out = frame[mask.to_numpy()].copy()
        out[PARTITION_COLUMN] = days[mask].to_numpy()
        out[SOURCE_COLUMN] = self.files[table].as_uri()
        return out.reset_index(drop=True)

    def fetch_static(self, table: str) -> pd.DataFrame:
        return self._frame_static(table)

    def _frame_static(self, table: str) -> pd.DataFrame:
        if table not in self.files:
            raise ValueError(f"replay --from: no file given for table '{table}' (use --from {table}=FILE)")
        return read_table_file(self.files[table])
