"""Pydantic models of ``features.transforms``: declarative, leak-free feature transforms.

Each transform is one list item with a ``kind``; errors name the item and the field
(``features.transforms.2.rolling.window_minutes``). Times are ``TimeRef``s: a timestamp column or
date parts, shifted by minutes. Lags and rolling windows only see events strictly before the row's
``features.prediction_time``; as-of joins only lookup rows stamped strictly before it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_NAME = r"^[a-z_][a-z0-9_]*$"
DATETIME_PARTS = ("year", "month", "day", "weekday", "hour", "minute", "day_of_year", "is_weekend")
AGGREGATES = ("count", "mean", "sum", "min", "max", "std")
CLEANED_EXTRA = ("_partition",)  # cleaned tables' own column (ml.cleaning.PARTITION_COLUMN; tested)
TimePart = Literal["year", "month", "day", "hour", "minute", "second"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeRef(_Strict):
    """A point in time per row: a datetime column (or ISO strings), or date parts
    (``{year: year, month: month, day: day, hour: hour, minute: minute}``), plus/minus minutes."""

    column: str | None = None
    parts: dict[TimePart, str] | None = None
    timezone: str | None = Field(default=None, description="tz-aware column: wall time in this zone")
    minus_minutes: int = Field(default=0, ge=0)
    plus_minutes: int = Field(default=0, ge=0)
    plus_minutes_column: str | None = Field(
        default=None,
        description="add this column's minutes (e.g. a delay); missing: the event never happened",
    )

    @model_validator(mode="after")
    def _one_source(self) -> TimeRef:
        if (self.column is None) == (self.parts is None):
            raise ValueError("give exactly one of column or parts")
        if self.parts is not None and not {"year", "month", "day"} <= set(self.parts):
            raise ValueError("parts needs at least year, month and day")
        return self

    @property
    def columns(self) -> list[str]:
        cols = [self.column] if self.column else list((self.parts or {}).values())
        return cols + ([self.plus_minutes_column] if self.plus_minutes_column else [])


class Missing(_Strict):
    """What to do with missing values of a transform's outputs: keep NaN, fill a value, or add a
    ``<column>_missing`` indicator (1.0 where missing; combine with ``value`` to also fill)."""

    policy: Literal["keep", "fill", "indicator"] = "keep"
    value: float | str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"policy": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _fill_needs_value(self) -> Missing:
        if self.policy == "fill" and self.value is None:
            raise ValueError("policy 'fill' needs a value")
        return self


class _Transform(_Strict):
    missing: Missing = Missing()

    def outputs(self) -> list[str]:
        raise NotImplementedError

    def produced(self) -> list[str]:
        """Outputs plus their ``_missing`` indicators."""
        extra = [f"{c}_missing" for c in self.outputs()] if self.missing.policy == "indicator" else []
        return [*self.outputs(), *extra]

    def row_inputs(self) -> list[str]:
        """Columns of the row itself this transform reads (these must be known at prediction time)."""
        return []


class DatetimeParts(_Transform):
    """Calendar parts of a time: ``{prefix}{part}`` (weekday: Monday = 0; is_weekend: 1.0/0.0)."""

    kind: Literal["datetime_parts"]
    time: TimeRef
    parts: list[Literal[DATETIME_PARTS]] = list(DATETIME_PARTS)  # type: ignore[valid-type]
    prefix: str | None = Field(default=None, description="default: '<column>_' or 'time_'")

    def outputs(self) -> list[str]:
        prefix = self.prefix if self.prefix is not None else f"{self.time.column or 'time'}_"
        return [f"{prefix}{p}" for p in self.parts]

    def row_inputs(self) -> list[str]:
        return self.time.columns


class AsOf(_Strict):
    """Time-varying lookups: the latest lookup row stamped strictly before the row's prediction time
    (floored to ``floor`` first), no older than ``max_age_minutes``."""

    time: TimeRef = Field(description="when the lookup row became known, on the lookup table")
    floor: Literal["minute", "hour", "day"] | None = None
    max_age_minutes: int | None = Field(default=None, gt=0)


class LookupJoin(_Transform):
    """Columns of an auxiliary table joined on keys (``keys``: main column → lookup column)."""

    kind: Literal["lookup_join"]
    table: str
    keys: dict[str, str]
    columns: dict[str, str] = Field(description="lookup column → output column")
    as_of: AsOf | None = None
    duplicates: Literal["first", "last"] = "last"

    @field_validator("keys", "columns", mode="before")
    @classmethod
    def _list_means_same_names(cls, value: Any) -> Any:
        return {v: v for v in value} if isinstance(value, list) else value

    def outputs(self) -> list[str]:
        return list(self.columns.values())

    def row_inputs(self) -> list[str]:
        return list(self.keys)


class _Window(_Transform):
    table: str | None = Field(default=None, description="events table; default: the main table")
    keys: dict[str, str] = Field(description="entity key: main column → events column")
    time: TimeRef = Field(description="when an event's value became known, on the events table")
    value: str

    @field_validator("keys", mode="before")
    @classmethod
    def _list_means_same_names(cls, value: Any) -> Any:
        return {v: v for v in value} if isinstance(value, list) else value

    def row_inputs(self) -> list[str]:
        return list(self.keys)


class Lag(_Window):
    """The ``n``-th most recent value of ``value`` per key, known strictly before prediction time."""

    kind: Literal["lag"]
    name: str = Field(pattern=_NAME)
    n: int = Field(default=1, ge=1)
    max_age_minutes: int | None = Field(default=None, gt=0)

    def outputs(self) -> list[str]:
        return [self.name]


class Rolling(_Window):
    """Aggregates of ``value`` per key over events in ``[prediction - window, prediction)``; on the
    main table a row never counts as its own event."""

    kind: Literal["rolling"]
    window_minutes: int = Field(gt=0)
    aggs: dict[Literal[AGGREGATES], str] = Field(  # type: ignore[valid-type]
        description="aggregate → output column (a list means '<name>_<agg>')"
    )
    name: str | None = Field(default=None, pattern=_NAME)

    @model_validator(mode="before")
    @classmethod
    def _named_aggs(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("aggs"), list):
            name = data.get("name") or data.get("value", "rolling")
            return {**data, "aggs": {agg: f"{name}_{agg}" for agg in data["aggs"]}}
        return data

    def outputs(self) -> list[str]:
        return list(self.aggs.values())


class Expression(_Transform):
    """Arithmetic of columns: ``+ - * / **``, comparisons (1.0/0.0), ``abs log sqrt``; x/0 is missing."""

    kind: Literal["expression"]
    name: str = Field(pattern=_NAME)
    expr: str

    @field_validator("expr")
    @classmethod
    def _parses(cls, expr: str) -> str:
        from ml_platform.ml.expressions import parse

        parse(expr)
        return expr

    def outputs(self) -> list[str]:
        return [self.name]

    def row_inputs(self) -> list[str]:
        from ml_platform.ml.expressions import parse

        return parse(self.expr).columns()


class Bucket(_Transform):
    """Bin index of ``column`` by ``edges`` (``i`` where ``edges[i-1] <= x < edges[i]``), or its label."""

    kind: Literal["bucket"]
    name: str = Field(pattern=_NAME)
    column: str
    edges: list[float] = Field(min_length=1)
    labels: list[str] | None = None

    @model_validator(mode="after")
    def _edges(self) -> Bucket:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("edges must be strictly increasing")
        if self.labels is not None and len(self.labels) != len(self.edges) + 1:
            raise ValueError(
                f"{len(self.edges)} edges make {len(self.edges) + 1} bins: give that many labels"
            )
        return self

    def outputs(self) -> list[str]:
        return [self.name]

    def row_inputs(self) -> list[str]:
        return [self.column]


Transform = Annotated[
    DatetimeParts | LookupJoin | Lag | Rolling | Expression | Bucket, Field(discriminator="kind")
]
NEEDS_PREDICTION_TIME = (Lag, Rolling)
