"""Static checks of ``features.transforms`` against the tables' columns: what each transform reads
exists, names are unique, and nothing known only after prediction time is read from the row itself."""

from __future__ import annotations

from typing import Any

from ml_platform.specs.transforms import (
    CLEANED_EXTRA,
    NEEDS_PREDICTION_TIME,
    Bucket,
    Expression,
    Lag,
    LookupJoin,
    Rolling,
    TimeRef,
)


def _where(i: int, t: Any) -> str:
    return f"features.transforms.{i} ({t.kind})"


def check_transforms(
    transforms: list[Any],
    prediction_time: TimeRef | None,
    known_after: list[str],
    main_columns: list[str],
    tables: dict[str, list[str]],
    text_columns: frozenset[str] = frozenset(),
) -> tuple[list[str], set[str]]:
    """Columns the transforms produce in order (after ``main_columns``) and the columns known only
    after prediction time. Raises ``ValueError`` naming the transform and field of the first problem:
    an unknown column or table, a name produced twice, a row-level use of a column known only after
    prediction time (those may only feed lags and rolling windows, which read other rows' past), or
    arithmetic on a text column (``text_columns``: the main table's ``str`` columns)."""
    columns = [*main_columns, *CLEANED_EXTRA]
    late = set(known_after)
    unknown_late = sorted(late - set(main_columns))
    if unknown_late:
        raise ValueError(f"features.known_after: {unknown_late} are not columns of main_table")
    if prediction_time is not None:
        _need(prediction_time.columns, columns, "features.prediction_time")
        _early(prediction_time.columns, late, "features.prediction_time")
    produced: list[str] = []
    for i, t in enumerate(transforms):
        where = _where(i, t)
        if isinstance(t, NEEDS_PREDICTION_TIME) or (isinstance(t, LookupJoin) and t.as_of is not None):
            if prediction_time is None:
                raise ValueError(f"{where}: needs features.prediction_time (windows end strictly before it)")
        _need(t.row_inputs(), columns, where)
        if isinstance(t, Expression | Bucket):
            text = sorted(set(t.row_inputs()) & text_columns)
            if text:
                raise ValueError(f"{where}: reads text columns {text}; expressions and buckets need numbers")
            if set(t.row_inputs()) & late:  # derived from late values: late too, usable only in windows
                late |= set(t.outputs())
        else:
            _early(t.row_inputs(), late, where)
        if isinstance(t, LookupJoin | Lag | Rolling) and t.table is not None:
            if t.table not in tables:
                raise ValueError(
                    f"{where}.table: '{t.table}' is not an auxiliary table (have {sorted(tables)})"
                )
            their = [*tables[t.table], *CLEANED_EXTRA]
            side = list(t.keys.values())
            side += list(t.columns) if isinstance(t, LookupJoin) else [t.value]
            side += t.as_of.time.columns if isinstance(t, LookupJoin) and t.as_of else []
            side += t.time.columns if isinstance(t, Lag | Rolling) else []
            _need(side, their, f"{where} (table '{t.table}')")
        elif isinstance(t, Lag | Rolling):
            _need([*t.keys.values(), t.value, *t.time.columns], columns, where)
        clash = [c for c in t.produced() if c in columns]
        if clash:
            raise ValueError(f"{where}: produces {clash}, which already exist")
        columns += t.produced()
        produced += t.produced()
    return produced, late


def _need(wanted: list[str], have: list[str], where: str) -> None:
    missing = [c for c in wanted if c not in have]
    if missing:
        raise ValueError(f"{where}: unknown columns {missing}")


def _early(wanted: list[str], late: set[str], where: str) -> None:
    bad = sorted(set(wanted) & late)
    if bad:
        raise ValueError(
            f"{where}: reads {bad} of the row itself, known only after prediction time (features.known_after)"
        )
