"""Cross-field checks of a whole spec (target vs task and schema, time columns, feature names,
estimator params); each error names the spec field it is about."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ml_platform.specs.models import ColumnSpec, PipelineSpec

_NUMERIC = ("int", "float")


def _fits(value: Any, col: ColumnSpec) -> bool:
    if col.dtype == "bool":
        return isinstance(value, bool)
    if col.dtype == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if col.dtype == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def check_target(spec: PipelineSpec) -> None:
    """The label's definition fits the task and the target column's dtype (and ``isin``)."""
    target = spec.target
    col = spec.main_table.columns[target.column]
    where = f"target.column '{target.column}' ({col.dtype})"
    given = [n for n in ("greater_than", "positive_class", "classes") if getattr(target, n) is not None]
    if spec.task == "regression":
        if given:
            raise ValueError(f"target.{given[0]} is for classification, but task is regression")
        if col.dtype not in _NUMERIC:
            raise ValueError(f"task regression needs a numeric target, but {where} is not")
        return
    if len(given) != 1:
        raise ValueError(
            "classification needs exactly one of target.greater_than (a number), target.positive_class "
            f"(binary) or target.classes (multiclass); got {given or 'none'}"
        )
    if target.greater_than is not None and col.dtype not in _NUMERIC:
        raise ValueError(
            f"target.greater_than needs a numeric column, but {where} is not: use target.positive_class"
        )
    values = [target.positive_class] if target.positive_class is not None else list(target.classes or [])
    field = "positive_class" if target.positive_class is not None else "classes"
    wrong = [v for v in values if not _fits(v, col)]
    if wrong:
        raise ValueError(f"target.{field}: {wrong} not of the dtype of {where}")
    if col.isin is not None:
        unknown = [v for v in values if v not in col.isin]
        if unknown:
            raise ValueError(f"target.{field}: {unknown} not among {where}'s isin values {col.isin}")
    if target.classes is not None and len(set(map(str, target.classes))) != len(target.classes):
        raise ValueError(f"target.classes: {target.classes} repeats a class")
    if target.classes is not None and len(target.classes) < 2:
        raise ValueError(f"target.classes: {target.classes}: a classifier needs at least two classes")
    if target.classes is not None and col.isin is not None:
        unlisted = [v for v in col.isin if v not in target.classes]
        if unlisted:
            raise ValueError(
                f"main_table.columns.{target.column}.isin: {unlisted} not in target.classes "
                f"{target.classes}: rows with them would pass cleaning and fail at features; "
                "add them to target.classes or remove them from isin"
            )


def check_time(spec: PipelineSpec) -> None:
    """The main table has the time columns, of a type a time can be read from."""
    time = spec.partitioning.time_spec
    cols = spec.main_table.columns
    field = "partitioning.time" if spec.partitioning.time is not None else "partitioning.date_columns"
    missing = [c for c in time.columns if c not in cols]
    if missing:
        hint = (
            "" if spec.partitioning.time is not None else " (the default; declare partitioning.time.column)"
        )
        raise ValueError(f"{field}: main_table has no column(s) {missing}{hint}")
    if time.column is not None and cols[time.column].dtype not in ("date", "datetime", "str"):
        raise ValueError(
            f"partitioning.time.column '{time.column}' is {cols[time.column].dtype}: "
            "it must be a date, datetime or str column"
        )
    if spec.partitioning.granularity == "hourly" and (
        time.column is None or cols[time.column].dtype == "date"
    ):
        raise ValueError(
            "partitioning.granularity hourly needs partitioning.time.column to be a datetime (or str) column"
        )
    if time.parts is not None:
        bad = [c for c in time.parts if cols[c].dtype != "int"]
        if bad:
            raise ValueError(f"{field}: year/month/day column(s) {bad} must be int")


def _available(spec: PipelineSpec) -> set[str] | None:
    from ml_platform.registry import FEATURE_BUILDERS

    builder = FEATURE_BUILDERS.get(spec.features.builder)
    outputs = getattr(builder, "outputs", None)
    return None if outputs is None else set(outputs(spec))


def check_features(spec: PipelineSpec) -> None:
    """Every feature and slice column is one the builder produces (when it can say), not the target."""
    features = spec.features
    for field in ("categorical", "numeric", "slice_columns"):
        names: list[str] = getattr(features, field)
        if field != "slice_columns" and spec.target.column in names:
            raise ValueError(
                f"features.{field}: '{spec.target.column}' is the target column (the label would leak)"
            )
    both = set(features.categorical) & set(features.numeric)
    if both:
        raise ValueError(f"features: {sorted(both)} listed as both categorical and numeric")
    available = _available(spec)
    if available is None:
        return
    for field in ("categorical", "numeric", "slice_columns"):
        unknown = [n for n in getattr(features, field) if n not in available]
        if unknown:
            close = {n: difflib.get_close_matches(n, sorted(available), n=1) for n in unknown}
            hints = ", ".join(
                f"'{n}'" + (f" (did you mean '{c[0]}'?)" if c else "") for n, c in close.items()
            )
            raise ValueError(
                f"features.{field}: {hints} not produced by features.builder '{features.builder}' "
                f"(it produces: {', '.join(sorted(available))})"
            )
    numeric_ok = ("int", "float", "bool")
    if features.builder == "columns":
        bad = [n for n in features.numeric if spec.main_table.columns[n].dtype not in numeric_ok]
        if bad:
            raise ValueError(
                f"features.numeric: {bad} are not numbers in main_table: list them as categorical (or derive numbers from them)"
            )


def check_estimator(spec: PipelineSpec) -> None:
    """The estimator resolves for the task and accepts every one of ``estimator.params``. A
    kind's class is checked from its source when that tells its parameters for sure (loading a
    spec then imports no scikit-learn: see :mod:`ml_platform.ml.estimators.signature`)."""
    from ml_platform.ml.estimators import estimator_kind, resolve_estimator
    from ml_platform.ml.estimators.signature import source_params

    if spec.estimator.kind is not None:
        kind = estimator_kind(spec.estimator.kind)
        read = source_params(kind.class_path(spec.task))
        if read is not None:
            reserved = ("categorical_features",) if kind.native_categorical else ()
            check_param_names(
                read.params, read.defined_at, spec.estimator.params, "estimator.params", reserved
            )
            return
    resolved = resolve_estimator(spec.estimator, spec.task)
    check_params(resolved.cls, spec.estimator.params, "estimator.params", resolved.reserved)


def check_params(cls: Any, params: dict[str, Any], where: str, reserved: tuple[str, ...] = ()) -> None:
    """``params`` are keyword arguments of ``cls`` (unless it takes ``**kwargs``)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    accepted = {
        n
        for n, p in signature.parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return
    check_param_names(accepted, f"{cls.__module__}.{cls.__qualname__}", params, where, reserved)


def check_param_names(
    accepted: Collection[str], name: str, params: dict[str, Any], where: str, reserved: tuple[str, ...] = ()
) -> None:
    """Every one of ``params`` is among ``accepted`` and none is ``reserved`` (``name``: the class)."""
    for param in params:
        if param in reserved:
            raise ValueError(f"{where}.{param}: set by the platform for {name}; remove it from the spec")
        if param not in accepted:
            close = difflib.get_close_matches(param, sorted(accepted), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"{where}.{param}: not a parameter of {name}{hint}")
