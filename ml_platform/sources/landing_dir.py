"""Landing directory source: one file per table and day, ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pandas as pd
from pydantic import Field

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
    quiet_seconds: float = Field(default=5.0, ge=0)  # settled: unchanged (size, mtime) this long
    done_marker: str | None = None  # e.g. ".done": a file counts once "<file>.done" exists


@register_source
class LandingDirSource(DaySource):
    """A landing directory: ``<path>/<table>/<YYYY-MM-DD>.csv|.parquet`` per day and
    ``<path>/<table>.csv|.parquet`` for unpartitioned tables."""

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
            day, _, ext = file.name.partition(".")
            if "." + ext not in FORMATS:
                odd.append(f"{file.name} (not .csv or .parquet)")
            elif not is_iso_day(day):
                odd.append(f"{file.name} (not a date)")
            else:
                by_day.setdefault(day, []).append(file)
        notes = (
            [f"table '{table}': ignored {len(odd)} file(s) with unknown names: {', '.join(odd[:5])}"]
            if odd
            else []
        )
        found: dict[str, str] = {}
        now = time.time()
        for day, candidates in sorted(by_day.items()):
            if len(candidates) > 1:
                names = " and ".join(c.name for c in candidates)
                notes.append(
                    f"table '{table}' day {day}: ambiguous delivery {names}, not read: remove the stale one"
                )
                continue
            file = candidates[0]
            stat = file.stat()
            if marker and file.name + marker not in markers:
                notes.append(
                    f"table '{table}' day {day}: {file.name} waits for its done marker {file.name}{marker}"
                )
                continue
            age = now - stat.st_mtime
            if not marker and age < self.quiet_seconds:
                notes.append(
                    f"table '{table}' day {day}: {file.name} changed {age:.1f}s ago, "
                    f"not settled yet (quiet period {self.quiet_seconds:g}s)"
                )
                continue
            found[day] = fingerprint(file.name, stat.st_size, stat.st_mtime_ns)
        return found, notes
