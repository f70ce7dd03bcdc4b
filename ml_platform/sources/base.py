"""Data sources: deliver a table's rows one day (or a range of days) at a time.

Every delivered frame carries ``_partition`` (the ISO day it was delivered for) and ``_source``
(where it came from), so lineage survives into cleaned data and quarantines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import dagster as dg
import pandas as pd
from pydantic import BaseModel, ConfigDict

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.sources.retry import (
    PermanentSourceError,
    RetryPolicy,
    SourceError,
    TransientSourceError,
    call_with_retries,
)

SOURCE_COLUMN = "_source"
FORMATS = (".parquet", ".csv")

if TYPE_CHECKING:
    from ml_platform.specs.models import RetrySpec, SourceSpec

__all__ = [
    "SOURCE_COLUMN",
    "DataSource",
    "DaySource",
    "SourceError",
    "SourceOptions",
    "read_delivery",
    "register_source",
]


class SourceOptions(BaseModel):
    """A source kind's ``source.options`` in the spec (validated per kind; unknown fields refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def retry_fields(retry: RetrySpec) -> dict[str, Any]:
    """The spec's ``source.retry`` as :class:`DataSource` fields."""
    return {
        "max_retries": retry.max_retries,
        "retry_base_delay_seconds": retry.base_delay_seconds,
        "retry_max_delay_seconds": retry.max_delay_seconds,
        "retry_jitter": retry.jitter,
    }


class DataSource(dg.ConfigurableResource, ABC):
    """Abstract source of raw tables (retry settings come from the spec's ``source.retry``).

    A concrete kind sets ``source_kind`` (the name a spec's ``source.kind`` uses) and ``Options``
    (its options model), implements :meth:`from_spec`, and is registered with
    :func:`register_source` (built-ins) or an entry point in group ``ml_platform.sources``."""

    source_kind: ClassVar[str] = ""
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    # False for a fixed archive that never receives new days: its new-data and retrain sensors
    # start stopped (a user turns them on in the UI).
    receives_new_data: ClassVar[bool] = True

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
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, ...]
    ) -> pd.DataFrame:
        """Rows of ``table`` for days ``start..end`` inclusive, with ``_partition`` and ``_source``."""

    def list_deliveries(self, table: str, date_columns: tuple[str, ...]) -> dict[str, str]:
        """Days delivered for ``table`` → a fingerprint that changes when the day is re-delivered."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its deliveries")

    def delivery_notes(self, table: str) -> list[str]:
        """What the listing left out and why (still being written, ambiguous, unknown names): the
        new-data sensor puts these in its skip reason and logs them as warnings."""
        return []

    @property
    def kind(self) -> str:
        return self.source_kind or type(self).__name__

    @classmethod
    def from_spec(cls, source: SourceSpec, home: Path) -> DataSource:
        """The resource for a spec's ``source`` section (options already validated by ``Options``);
        relative paths are taken under the environment's ``home``."""
        raise NotImplementedError(f"{cls.__name__} does not build from a spec")

    @classmethod
    def options(cls, source: SourceSpec) -> Any:
        return cls.Options.model_validate(source.options)

    @abstractmethod
    def fetch_static(self, table: str) -> pd.DataFrame:
        """A whole unpartitioned table (e.g. a lookup), with ``_source``."""

    @abstractmethod
    def uri(self, table: str) -> str:
        """Where ``table`` is read from, for metadata."""


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
    def _fetch_day(self, table: str, day: dt.date, date_columns: tuple[str, ...]) -> pd.DataFrame:
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
        self, table: str, start: dt.date, end: dt.date, date_columns: tuple[str, ...]
    ) -> pd.DataFrame:
        frames = []
        day = start
        while day <= end:
            what = f"{self.kind} source {self.uri(table)}, table '{table}', day {day}"
            frame = self._retrying(lambda d=day: self._fetch_day(table, d, date_columns), what)
            if not _hour_keys_of(frame, day):  # a day's hour files keep their hour keys
                frame[PARTITION_COLUMN] = day.isoformat()
            if SOURCE_COLUMN not in frame:
                frame[SOURCE_COLUMN] = self.uri(table)
            frames.append(frame)
            day += dt.timedelta(days=1)
        out = pd.concat(frames, ignore_index=True)
        # a delivery without rows still says where it came from (kept through Parquet)
        empty = sorted(
            {str(f.attrs[SOURCE_COLUMN]) for f in frames if not len(f) and SOURCE_COLUMN in f.attrs}
        )
        if empty:
            out.attrs[SOURCE_COLUMN] = ", ".join(empty)
        return out

    def fetch_static(self, table: str) -> pd.DataFrame:
        what = f"{self.kind} source {self.uri(table)}, table '{table}' (unpartitioned)"
        frame = self._retrying(lambda: self._fetch_static(table), what)
        if SOURCE_COLUMN not in frame:
            frame[SOURCE_COLUMN] = self.uri(table)
        return frame


def is_hour_key(text: str) -> bool:
    """A Dagster hourly partition key: ``YYYY-MM-DD-HH:MM``, for the second pass of an hour
    repeated when clocks go back with its UTC offset (``2013-11-03-01:00-0500``)."""
    return re.fullmatch(r"\d{4}-\d\d-\d\d-[0-2]\d:00(?:[+-]\d{4})?", text) is not None and is_iso_day(
        text[:10]
    )


def _hour_keys_of(frame: pd.DataFrame, day: dt.date) -> bool:
    if PARTITION_COLUMN not in frame or not len(frame):
        return False
    keys = frame[PARTITION_COLUMN].astype(str)
    return bool(keys.str.startswith(day.isoformat()).all() and keys.map(is_hour_key).all())


def is_iso_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def register_source(cls: type[DataSource]) -> type[DataSource]:
    """Class decorator: register a source kind under its ``source_kind``."""
    from ml_platform.registry import SOURCES

    if not cls.source_kind:
        raise TypeError(f"{cls.__name__} needs a source_kind to be registered")
    SOURCES.add(cls.source_kind, cls, origin=cls.__module__)
    return cls


def source_class(source: SourceSpec) -> type[DataSource]:
    from ml_platform.registry import SOURCES

    cls: type[DataSource] = SOURCES.get(source.kind)
    return cls


def build_source(source: SourceSpec, home: Path) -> DataSource:
    """The resource for a spec's ``source`` section, by its registered kind."""
    from ml_platform.registry import SOURCES

    return SOURCES.get(source.kind).from_spec(source, home)
