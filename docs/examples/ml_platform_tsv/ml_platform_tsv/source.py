"""Source kind ``tsv_dir``: one tab-separated file per table and day, ``<path>/<table>/<day>.tsv``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from ml_platform.sources.base import DaySource, SourceOptions, fingerprint, retry_fields
from ml_platform.sources.retry import PermanentSourceError

if TYPE_CHECKING:
    from ml_platform.specs.models import SourceSpec


class TsvOptions(SourceOptions):
    path: str


class TsvDirSource(DaySource):
    source_kind: ClassVar[str] = "tsv_dir"
    Options: ClassVar[type[SourceOptions]] = TsvOptions
    path: str

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> TsvDirSource:
        return cls(path=cls.options(source).path, **retry_fields(source.retry))

    def uri(self, table: str) -> str:
        return (Path(self.path) / table).as_uri()

    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, ...]) -> pd.DataFrame:
        file = Path(self.path) / table / f"{day.isoformat()}.tsv"
        if not file.exists():
            raise PermanentSourceError(f"tsv_dir source: no delivery for table '{table}' on {day}")
        return pd.read_csv(file, sep="\t")

    def _fetch_static(self, table: str) -> pd.DataFrame:
        return pd.read_csv(Path(self.path) / f"{table}.tsv", sep="\t")

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        files = sorted((Path(self.path) / table).glob("*.tsv"))
        return {f.stem: fingerprint(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files}
