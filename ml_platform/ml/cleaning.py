"""Cleaning rules: typed coercion, pandera validation, quarantine with reasons, duplicates.

Hard errors (a required column is missing, the delivery is not a table) raise
:class:`DataContractError` naming the table, the partition and the source. Row-level problems move
the row to a quarantine frame with a ``_reasons`` column; nothing is silently dropped: values a
column cannot hold (an int beyond int64, a non-finite float) are quarantined, every copy of a
primary key delivered with different values is quarantined, and identical rows are quarantined as
``duplicate row`` unless the table says ``duplicates: keep``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml_platform.ml import time as timecol
from ml_platform.specs.models import ColumnSpec, TableSpec, TimeSpec

if TYPE_CHECKING:
    import pandera.pandas as pa

PARTITION_COLUMN = "_partition"
REASONS_COLUMN = "_reasons"

_PANDERA_DTYPES: Mapping[str, object] = {
    "int": "int64",
    "float": "float64",
    "str": "object",
    "datetime": "datetime64[ns]",
    "date": "datetime64[ns]",
    "bool": "bool",
}


class DataContractError(ValueError):
    """A delivery that breaks the table contract as a whole (not just some rows)."""


@dataclass
class CleaningResult:
    cleaned: pd.DataFrame
    quarantine: pd.DataFrame
    duplicate_rows: int = 0
    unexpected_columns: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)


def pandera_schema(table: TableSpec) -> pa.DataFrameSchema:
    import pandera.pandas as pa  # imported on first use: keeps definitions load light

    """The pandera schema a cleaned table satisfies (also shown as the Dagster table schema)."""
    columns = {}
    for name, col in table.columns.items():
        checks = []
        if col.ge is not None:
            checks.append(pa.Check.ge(col.ge))
        if col.le is not None:
            checks.append(pa.Check.le(col.le))
        if col.isin is not None:
            checks.append(pa.Check.isin(col.isin))
        columns[name] = pa.Column(_PANDERA_DTYPES[col.dtype], checks=checks, nullable=col.nullable)
    return pa.DataFrameSchema(columns, name=table.name, strict=False)


def _coerce(series: pd.Series, col: ColumnSpec) -> pd.Series:
    if col.dtype in ("int", "float"):
        values = pd.to_numeric(series, errors="coerce").astype(float)
        if col.dtype == "int":
            values = values.where(np.isclose(values, np.round(values)) | values.isna(), np.nan)
        return values
    if col.dtype == "datetime":
        return pd.to_datetime(series, errors="coerce")
    if col.dtype == "bool":
        return series.map({True: True, False: False, "true": True, "false": False})
    # object dtype even when every value is missing (CSV reads an all-empty column as float)
    return series.astype(object).where(series.isna(), series.astype(str))


def _describe(check: object) -> str:
    return str(check).replace("greater_than_or_equal_to", ">=").replace("less_than_or_equal_to", "<=")


def clean_table(
    raw: pd.DataFrame,
    table: TableSpec,
    *,
    partition: str = "?",
    source: str = "?",
    date_columns: tuple[str, str, str] | None = None,
    require_rows: bool = False,
    time: TimeSpec | None = None,
    granularity: str = "daily",
) -> CleaningResult:
    """Coerce and validate ``raw`` against ``table``; quarantine bad rows with their reasons.

    With ``time`` (or ``date_columns``, year/month/day), the time column is parsed by its format and
    timezone, and rows whose local day disagrees with their ``_partition`` (a day's file holding
    another day's data) are quarantined, and with hourly ``granularity`` rows delivered for another
    local hour (or naive times a DST change repeats or skips); with ``require_rows``, an empty
    delivery is a contract error.
    """
    if time is None and date_columns:
        time = TimeSpec(parts=date_columns)
    where = f"table '{table.name}', partition {partition}, source {source}"
    if not isinstance(raw, pd.DataFrame):
        raise DataContractError(f"{where}: expected a table, got {type(raw).__name__}")
    if require_rows and len(raw) == 0:
        raise DataContractError(f"{where}: empty delivery (0 rows)")
    missing = [c for c in table.columns if c not in raw.columns]
    if missing:
        raise DataContractError(f"{where}: missing required column(s) {missing}")
    expected = [*table.columns]
    extra = [c for c in raw.columns if c not in expected and not c.startswith("_")]
    keep_meta = [c for c in raw.columns if c.startswith("_")]
    frame = raw[expected + keep_meta].reset_index(drop=True)

    reasons: dict[int, list[str]] = {}
    typed = frame.copy()
    for name, col in table.columns.items():
        as_time = _time_of(name, col, time)
        coerced = timecol.coerce(frame[name], col, as_time) if as_time else _coerce(frame[name], col)
        bad = coerced.isna() & frame[name].notna()
        for idx in np.flatnonzero(bad.to_numpy()):
            value = frame[name].iloc[idx]
            reasons.setdefault(int(idx), []).append(
                timecol.invalid_reason(name, value, as_time)
                if as_time
                else f"{name}: not a valid {col.dtype}: {value!r}"
            )
        typed[name] = _drop_unrepresentable(coerced, frame[name], name, col, reasons)

    from pandera.errors import SchemaErrors

    try:
        pandera_schema(_nullable_numbers(table)).validate(typed, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        for _, case in cases.iterrows():
            if pd.isna(case["index"]):
                raise DataContractError(f"{where}: {case['column']}: {case['check']}") from None
            if case["check"] == "dtype('int64')":
                continue  # ints are validated at coercion; nulls are rejected below
            reasons.setdefault(int(case["index"]), []).append(
                f"{case['column']}: fails {_describe(case['check'])}: {case['failure_case']!r}"
            )
    for name, col in table.columns.items():
        if not col.nullable:
            for idx in np.flatnonzero((typed[name].isna() & frame[name].isna()).to_numpy()):
                reasons.setdefault(int(idx), []).append(f"{name}: required value is missing")

    if time is not None and PARTITION_COLUMN in typed and all(c in typed for c in time.columns):
        for row, reason in timecol.wrong_day(typed, time, PARTITION_COLUMN).items():
            reasons.setdefault(row, []).append(reason)
    if granularity == "hourly" and time is not None and time.column in frame and PARTITION_COLUMN in frame:
        for row, reason in timecol.wrong_hour(frame, time, PARTITION_COLUMN).items():
            reasons.setdefault(row, []).append(reason)

    bad_idx = sorted(reasons)
    quarantine = frame.iloc[bad_idx].copy()
    quarantine[REASONS_COLUMN] = ["; ".join(sorted(set(reasons[i]))) for i in bad_idx]
    good = typed.drop(index=bad_idx)

    good, rejected, duplicate_rows = _resolve_duplicates(good, frame, table)
    quarantine = pd.concat([quarantine, rejected]) if len(rejected) else quarantine

    for name, col in table.columns.items():
        if col.dtype == "int" and not col.nullable:
            good[name] = good[name].astype("int64")
    counts: dict[str, int] = {}
    for text in quarantine[REASONS_COLUMN]:
        for reason in str(text).split("; "):
            key = _reason_kind(reason)
            counts[key] = counts.get(key, 0) + 1
    return CleaningResult(
        cleaned=good.reset_index(drop=True),
        quarantine=quarantine.reset_index(drop=True),
        duplicate_rows=duplicate_rows,
        unexpected_columns=extra,
        reasons=counts,
    )


def merge_results(results: list[CleaningResult]) -> CleaningResult:
    """One result from the results of consecutive chunks (e.g. groups of daily partitions)."""
    if len(results) == 1:
        return results[0]
    reasons: dict[str, int] = {}
    for r in results:
        for key, count in r.reasons.items():
            reasons[key] = reasons.get(key, 0) + count
    return CleaningResult(
        cleaned=pd.concat([r.cleaned for r in results], ignore_index=True),
        quarantine=pd.concat([r.quarantine for r in results], ignore_index=True),
        duplicate_rows=sum(r.duplicate_rows for r in results),
        unexpected_columns=sorted({c for r in results for c in r.unexpected_columns}),
        reasons=reasons,
    )


def _reason_kind(reason: str) -> str:
    """'month: not a valid int: 'x'' -> 'month: not a valid int' (the offending value dropped)."""
    parts = reason.split(": ")
    return ": ".join(parts[:2]) if len(parts) > 2 else reason


def _nullable_numbers(table: TableSpec) -> TableSpec:
    """Same table with every column nullable and ints as floats: nulls and ints are checked apart."""
    cols = {
        n: c.model_copy(update={"nullable": True, "dtype": "float" if c.dtype == "int" else c.dtype})
        for n, c in table.columns.items()
    }
    return table.model_copy(update={"columns": cols})


def _time_of(name: str, col: ColumnSpec, time: TimeSpec | None) -> TimeSpec | None:
    """How to parse column ``name``: the spec's time (its own column), else ISO 8601 for any other
    date/datetime column; None for columns that are not times."""
    if time is not None and time.column == name:
        return time
    if col.dtype in ("date", "datetime"):
        return TimeSpec(column=name, timezone=time.timezone if time is not None else None)
    return None


#: Floats at or beyond 2**63 do not fit an int64 (casting them wraps to -9223372036854775808).
_INT64_LIMIT = float(2**63)


def _drop_unrepresentable(
    coerced: pd.Series, original: pd.Series, name: str, col: ColumnSpec, reasons: dict[int, list[str]]
) -> pd.Series:
    """``coerced`` with non-finite numbers and out-of-range ints blanked, each one given a reason."""
    if col.dtype not in ("int", "float"):
        return coerced
    infinite = np.isinf(coerced.to_numpy(dtype=float, na_value=np.nan))
    overflow = (coerced.abs() >= _INT64_LIMIT).to_numpy() & ~infinite if col.dtype == "int" else None
    for idx in np.flatnonzero(infinite):
        reasons.setdefault(int(idx), []).append(f"{name}: not a finite number: {original.iloc[idx]!r}")
    for idx in np.flatnonzero(overflow) if overflow is not None else []:
        reasons.setdefault(int(idx), []).append(f"{name}: out of int64 range: {original.iloc[idx]!r}")
    blank = infinite | overflow if overflow is not None else infinite
    return coerced.where(~blank, np.nan) if blank.any() else coerced


def _resolve_duplicates(
    good: pd.DataFrame, frame: pd.DataFrame, table: TableSpec
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(kept rows, quarantined rows with reasons, identical extra copies found).

    A primary key delivered with different values keeps none of its copies (which one is right is
    unknown); identical extra copies are quarantined as ``duplicate row`` or kept (``duplicates: keep``)."""
    columns = list(table.columns)
    copy = good.duplicated(subset=columns, keep="first")
    rejected: list[pd.DataFrame] = []
    if table.primary_key:
        key = table.primary_key
        distinct = good[~copy]
        versions = distinct.groupby(key, dropna=False, sort=False)[key[0]].transform("size")
        conflicting = distinct[versions.to_numpy() > 1]
        if len(conflicting):
            clash = good.set_index(key).index.isin(conflicting.set_index(key).index)
            counts = conflicting.groupby(key, dropna=False, sort=False).size()
            out = frame.loc[good.index[clash]].copy()
            out[REASONS_COLUMN] = [
                f"conflicting duplicate key: {key}: {int(counts.loc[k])} versions, none kept"
                for k in good[clash].set_index(key).index
            ]
            rejected.append(out)
            good, copy = good[~clash], copy[~clash]
    duplicate_rows = int(copy.sum())
    if duplicate_rows and table.duplicates == "quarantine":
        out = frame.loc[good.index[copy.to_numpy()]].copy()
        out[REASONS_COLUMN] = "duplicate row: identical to a kept row"
        rejected.append(out)
        good = good[~copy]
    return good, pd.concat(rejected) if rejected else frame.iloc[:0], duplicate_rows
