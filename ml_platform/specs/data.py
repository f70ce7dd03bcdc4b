"""Spec models of the data side: the source and its retries, tables and columns, time and partitions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from ml_platform.specs.base import _NAME, _check_options, _Strict


class RetrySpec(_Strict):
    """Retries of transient source faults (5xx, timeouts, resets, disconnects): exponential backoff
    ``min(max_delay, base_delay * 2**n)`` scaled by a random factor in ``[1 - jitter, 1]``."""

    max_retries: int = Field(default=3, ge=0)
    base_delay_seconds: float = Field(default=0.5, ge=0)
    max_delay_seconds: float = Field(default=30.0, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1)


class NewDataSensorSpec(_Strict):
    """The new-data sensor: how often it polls the source, how many runs one tick may request and
    how many consecutive pending days one run (a single-run backfill over the range) may take."""

    minimum_interval_seconds: int = Field(default=30, ge=1)
    max_runs_per_tick: int = Field(default=25, ge=1)
    max_days_per_run: int = Field(default=366, ge=1)


class SourceSpec(_Strict):
    """Where raw tables come from: a source kind plus its options (see docs/sources.md)."""

    kind: str = Field(description="a registered source kind (built-in or from a plugin)")
    options: dict[str, Any] = Field(default_factory=dict)
    retry: RetrySpec = RetrySpec()
    sensor: NewDataSensorSpec = NewDataSensorSpec()

    @model_validator(mode="after")
    def _known_kind_and_options(self) -> SourceSpec:
        from ml_platform.registry import SOURCES

        _check_options(SOURCES.get(self.kind).Options, self.options, "options")
        return self


class ColumnSpec(_Strict):
    """One column of a table schema (pandera-checked after ingestion)."""

    dtype: Literal["int", "float", "str", "datetime", "date", "bool"] = Field(
        description="``date``/``datetime``: parsed (see ``partitioning.time``) into datetime64"
    )
    nullable: bool = False
    ge: float | None = None
    le: float | None = None
    isin: list[str | int | float | bool] | None = Field(
        default=None, description="allowed values, of the column's dtype (e.g. ``[0, 1]`` for an int)"
    )

    @model_validator(mode="after")
    def _isin_fits_dtype(self) -> ColumnSpec:
        if self.isin is None:
            return self
        fits = {
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "bool": lambda v: isinstance(v, bool),
            "str": lambda v: isinstance(v, str),
        }.get(self.dtype, lambda v: isinstance(v, str))
        wrong = [v for v in self.isin if not fits(v)]
        if wrong:
            raise ValueError(f"isin values {wrong} are not of the column's dtype '{self.dtype}'")
        return self


class TableSpec(_Strict):
    """A raw table: main fact table or an auxiliary lookup joined into features."""

    name: str = Field(pattern=_NAME)
    table: str = Field(description="name of the table inside the source")
    partitioned: bool = True
    columns: dict[str, ColumnSpec]
    primary_key: list[str] = Field(default_factory=list)
    duplicates: Literal["quarantine", "keep"] = Field(
        default="quarantine",
        description="identical rows: extra copies quarantined as 'duplicate row' (counted in the "
        "quarantine check), or kept as separate observations",
    )

    @model_validator(mode="after")
    def _keys_are_columns(self) -> TableSpec:
        missing = [k for k in self.primary_key if k not in self.columns]
        if missing:
            raise ValueError(f"primary_key names unknown columns {missing} in table '{self.name}'")
        return self


class TimeSpec(_Strict):
    """Where a row's time comes from: one date/datetime ``column`` or year/month/day ``parts``."""

    column: str | None = Field(
        default=None, description="a date or datetime column (ISO 8601 text unless ``format``)"
    )
    parts: tuple[str, str, str] | None = Field(default=None, description="year, month and day columns")
    format: str | None = Field(
        default=None,
        description="strftime format of ``column``, e.g. ``'%d/%m/%Y'`` (then '02/07/2016' is July 2nd); "
        "a value that does not match is quarantined",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone: a row's day is its local day there (aware times are converted, naive "
        "ones are taken as local already)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> TimeSpec:
        if (self.column is None) == (self.parts is None):
            raise ValueError("time needs exactly one of column (a date/datetime) or parts (year, month, day)")
        if self.parts is not None and (self.format or self.timezone):
            raise ValueError("format and timezone apply to a time column, not to year/month/day parts")
        if self.timezone is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezone '{self.timezone}' is not an IANA time zone") from None
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return self.parts if self.parts is not None else (str(self.column),)


class PartitioningSpec(_Strict):
    """Daily (default), hourly or weekly partitions; a row's day comes from ``time`` (default:
    year/month/day columns)."""

    start: dt.date
    end: dt.date = Field(description="last day, inclusive")
    granularity: Literal["daily", "hourly", "weekly"] = Field(
        default="daily",
        description="partition by day, hour (local hours of ``time.column`` in ``time.timezone``: a DST "
        "day has 23 or 25, the repeated hour's second pass keyed with its UTC offset, e.g. "
        "``2013-11-03-01:00-0500``) or week (from Monday); a source delivers whole days (landing_dir: "
        "a day's file or its hour files)",
    )
    time: TimeSpec | None = Field(default=None, description="the time of a row (default: year/month/day)")
    date_columns: tuple[str, str, str] | None = Field(
        default=None, description="shorthand for ``time: {parts: [...]}``"
    )
    missing_days: Literal["fail", "allow"] = Field(
        default="fail", description="a day without a delivery: fail the run, or allow (no rows)"
    )
    empty_days: Literal["fail", "allow"] = Field(
        default="fail", description="a day of the main table with zero rows: fail, or allow"
    )

    @model_validator(mode="after")
    def _ordered(self) -> PartitioningSpec:
        if self.end < self.start:
            raise ValueError(f"partitioning.end {self.end} is before partitioning.start {self.start}")
        if self.time is not None and self.date_columns is not None:
            raise ValueError("give partitioning.time or partitioning.date_columns, not both")
        if self.missing_days == "allow" and self.empty_days == "fail":
            raise ValueError(
                "partitioning.missing_days: allow needs empty_days: allow (a day with no delivery has no rows)"
            )
        return self

    @property
    def time_spec(self) -> TimeSpec:
        if self.time is not None:
            return self.time
        return TimeSpec(parts=self.date_columns or ("year", "month", "day"))

    @property
    def n_partitions(self) -> int:
        days = (self.end - self.start).days + 1
        if self.granularity == "hourly":  # local hours: a DST day has 23 or 25
            from zoneinfo import ZoneInfo

            zone = ZoneInfo(self.time_spec.timezone or "UTC")
            begin = dt.datetime.combine(self.start, dt.time(), zone)
            after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), zone)
            return int((after.timestamp() - begin.timestamp()) // 3600)  # not wall-clock hours
        if self.granularity == "weekly":
            first = self.start - dt.timedelta(days=self.start.weekday())
            return (self.end - first).days // 7 + 1
        return days

    @property
    def day_columns(self) -> tuple[str, ...]:
        """The columns a source may use to find a day's rows (the time column or year/month/day)."""
        return self.time_spec.columns
