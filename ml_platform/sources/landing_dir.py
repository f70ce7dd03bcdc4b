"""Landing directory source: one file per table and day, ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from ml_platform.sources.base import (
    FORMATS,
    SOURCE_COLUMN,
    DaySource,
    SourceOptions,
    fingerprint,
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


@register_source
class LandingDirSource(DaySource):
    """A landing directory: ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet`` per day and
    ``<path>/<table>.csv|.parquet`` for unpartitioned tables."""

    source_kind: ClassVar[str] = "landing_dir"
    Options: ClassVar[type[SourceOptions]] = LandingDirOptions

    path: str

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> LandingDirSource:
        path = Path(cls.options(source).path)
        return cls(path=str(path if path.is_absolute() else home / path), **retry_fields(source.retry))

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
        frame[SOURCE_COLUMN] = frame.attrs[SOURCE_COLUMN] = file.resolve().as_uri()
        return frame

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, ...]) -> pd.DataFrame:
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

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        folder = Path(self.path) / table
        found: dict[str, str] = {}
        for file in sorted(folder.glob("*")) if folder.is_dir() else []:
            day, ext = file.name.split(".", 1)[0], "." + file.name.split(".", 1)[-1]
            if ext in FORMATS and is_iso_day(day) and not file.name.startswith("."):
                stat = file.stat()
                found[day] = fingerprint(file.name, stat.st_size, stat.st_mtime_ns)
        return found
