"""JSON rows checked against a model's MLflow signature before the model sees them.

Every problem is a :class:`RequestError` (a 4xx) whose message names the row and the field; the model
never gets a row it would fail on, so bad input is never a 500. Optional inputs may be null or
absent, except integer inputs: MLflow cannot hand a missing integer to the model.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_LISTED_ERRORS = 20
_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_FLOAT32_MAX = 3.4028234663852886e38
_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}


@dataclass(frozen=True)
class Field:
    """One input of the signature: name, MLflow type name (``double``, ``long``, ``string`` …)."""

    name: str
    type: str
    required: bool


@dataclass
class RequestError(Exception):
    """A request the endpoint refuses: HTTP status, a one-line message, per-field errors."""

    status: int
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, "errors": self.errors}


def fields_from_signature(signature: Any) -> list[Field]:
    """The inputs of a column-based signature; a model without one is refused (not served blind)."""
    inputs = getattr(signature, "inputs", None)
    if inputs is None or not inputs.has_input_names():
        raise ValueError("the model has no column-based input signature; the endpoint will not serve it")
    out = []
    for spec in inputs.inputs:
        type_name = getattr(spec.type, "name", None)
        if type_name not in _CHECKS:
            raise ValueError(f"input {spec.name!r} has type {spec.type!r}, which the endpoint cannot check")
        out.append(Field(spec.name, type_name, bool(spec.required)))
    return out


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{text[:40]}… ({type(value).__name__})" if len(text) > 40 else f"{text} ({type(value).__name__})"


def _number(value: Any, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number ({kind}), got {_describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number (NaN/Infinity are not JSON; send null if missing)")
    if kind == "float" and abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{value} is out of range for a 32-bit float")
    return float(value)


def _integer(value: Any, kind: str) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} is not a finite integer (NaN/Infinity are not JSON)")
        raise ValueError(f"expected an integer ({kind}), got {_describe(value)}")
    low, high = _INT_RANGE[kind]
    if not low <= value <= high:
        raise ValueError(f"{value} is out of range for {kind}")
    return value


def _string(value: Any, kind: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_describe(value)}")
    return value


def _boolean(value: Any, kind: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_describe(value)}")
    return value


def _datetime(value: Any, kind: str) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date-time string, got {_describe(value)}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is not None:  # the model takes naive times; aware ones are read as UTC
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _binary(value: Any, kind: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"expected base64 text, got {_describe(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("is not valid base64") from None


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "double": _number,
    "float": _number,
    "long": _integer,
    "integer": _integer,
    "string": _string,
    "boolean": _boolean,
    "datetime": _datetime,
    "binary": _binary,
}


def rows_of(payload: Any, max_rows: int) -> list[Any]:
    """The list of rows in a body (``{"rows": [...]}`` or a bare list), size-checked."""
    if isinstance(payload, dict):
        extra = sorted(set(payload) - {"rows"})
        if extra:
            raise RequestError(422, f"unknown key {extra[0]!r} in the body: expected only 'rows'")
        if "rows" not in payload:
            raise RequestError(422, "the body has no 'rows': send {\"rows\": [{...}, ...]}")
        payload = payload["rows"]
    elif not isinstance(payload, list):
        raise RequestError(
            422, f'the body is {type(payload).__name__}: expected {{"rows": [...]}} or a list of rows'
        )
    if not isinstance(payload, list):
        raise RequestError(422, f"'rows' is {type(payload).__name__}, expected a list of objects")
    if not payload:
        raise RequestError(422, "'rows' is empty: nothing to predict")
    if len(payload) > max_rows:
        raise RequestError(413, f"batch of {len(payload)} rows is larger than the limit of {max_rows} rows")
    return payload


def _problem(index: int, name: str | None, text: str) -> dict[str, Any]:
    where = f"row {index}" if name is None else f"row {index}, field {name!r}"
    return {"row": index, "field": name, "msg": f"{where}: {text}"}


def _row_errors(
    index: int, row: Any, fields: Sequence[Field], columns: dict[str, list[Any]]
) -> list[dict[str, Any]]:
    if not isinstance(row, dict):
        return [_problem(index, None, f"is {type(row).__name__}, expected an object of fields")]
    known = {f.name for f in fields}
    problems = [_problem(index, key, "unknown field") for key in row if key not in known]
    for f in fields:
        value = row.get(f.name)
        if value is None:
            if f.required:
                problems.append(
                    _problem(index, f.name, f"required but {'null' if f.name in row else 'missing'}")
                )
            elif f.type in _INT_RANGE:
                problems.append(
                    _problem(
                        index,
                        f.name,
                        f"null/missing is not accepted for {f.type} inputs "
                        "(MLflow passes no missing integers to the model)",
                    )
                )
            columns[f.name].append(None)
            continue
        try:
            columns[f.name].append(_CHECKS[f.type](value, f.type))
        except ValueError as exc:
            problems.append(_problem(index, f.name, str(exc)))
            columns[f.name].append(None)
    return problems


def validate_rows(payload: Any, fields: Sequence[Field], max_rows: int) -> Any:
    """The checked rows as a pandas DataFrame in signature order, or a :class:`RequestError`."""
    import pandas as pd

    rows = rows_of(payload, max_rows)
    columns: dict[str, list[Any]] = {f.name: [] for f in fields}
    problems: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        problems.extend(_row_errors(index, row, fields, columns))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RequestError(422, problems[0]["msg"] + more, problems[:MAX_LISTED_ERRORS])
    frame = {}
    for f in fields:
        values = columns[f.name]
        if f.type in _DTYPES:
            frame[f.name] = pd.Series(values, dtype=_DTYPES[f.type])
        elif f.type == "datetime":
            frame[f.name] = pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
        elif f.type == "boolean" and None not in values:
            frame[f.name] = pd.Series(values, dtype=bool)
        else:
            frame[f.name] = pd.Series(values, dtype=object)
    return pd.DataFrame(frame)
