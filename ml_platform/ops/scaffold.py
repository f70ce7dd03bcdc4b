"""``ml-platform init --from sample.csv --name NAME``: a first spec from a sample of the data — the
schema inferred (dtypes, nullability, observed ranges), the time column suggested (with its format),
a time split over the sample's days — that validates as written. The target is the user's choice:
the scaffold proposes the last numeric column as a regression target, marked to review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

# tried in order for a text column that is not ISO 8601; the first that reads every value wins
FORMATS = ("%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%Y/%m/%d %H:%M", "%d/%m/%Y %H:%M")


def _time_format(values: pd.Series) -> tuple[str | None, pd.Series] | None:
    """(format or None for ISO 8601, parsed) when every value reads as a time; else None."""
    text = values.dropna().astype(str)
    if text.empty or pd.api.types.is_numeric_dtype(values):
        return None
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if iso.notna().all():
        return None, iso
    for fmt in FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            return fmt, parsed
    return None


def _column(values: pd.Series) -> dict[str, Any]:
    col: dict[str, Any] = {}
    present = values.dropna()
    lowered = set(present.astype(str).str.lower())
    if lowered and lowered <= {"true", "false"}:
        col["dtype"] = "bool"
    elif pd.api.types.is_integer_dtype(values):
        col["dtype"] = "int"
    elif pd.api.types.is_float_dtype(values):
        col["dtype"] = "float"
    else:
        col["dtype"] = "str"
    if col["dtype"] in ("int", "float") and len(present):
        lo, hi = present.min(), present.max()
        col["ge"], col["le"] = (int(lo), int(hi)) if col["dtype"] == "int" else (float(lo), float(hi))
    if col["dtype"] == "str" and 0 < present.nunique() <= 12 and len(present) >= 20:
        col["isin"] = sorted(present.astype(str).unique())
    if values.isna().any():
        col["nullable"] = True
    return col


def scaffold(sample: Path, name: str) -> str:
    """The YAML text of a spec for data like ``sample`` (a CSV or Parquet file)."""
    frame = pd.read_parquet(sample) if sample.suffix == ".parquet" else pd.read_csv(sample, low_memory=False)
    if frame.empty:
        raise ValueError(f"{sample}: no rows to infer a schema from")
    columns = {str(c): _column(frame[c]) for c in frame.columns}
    time_column, time_format, parsed = None, None, None
    for c in frame.columns:
        found = _time_format(frame[c])
        if found is not None:
            time_column, (time_format, parsed) = str(c), found
            break
    if time_column is None or parsed is None:
        raise ValueError(
            f"{sample}: no date or datetime column found; ml_platform partitions data by day "
            "(add one, or write partitioning.time by hand)"
        )
    naive = parsed.dt.tz_localize(None) if isinstance(parsed.dtype, pd.DatetimeTZDtype) else parsed
    first, last = naive.min().date(), naive.max().date()
    dates_only = bool((naive == naive.dt.normalize()).all())
    columns[time_column] = {"dtype": "date" if dates_only else "datetime"}
    if frame[time_column].isna().any():
        columns[time_column]["nullable"] = True
    numeric = [c for c, col in columns.items() if col["dtype"] in ("int", "float") and c != time_column]
    if not numeric:
        raise ValueError(f"{sample}: no numeric column to propose as a target; write target by hand")
    target = numeric[-1]
    days = (last - first).days + 1
    if days < 2:
        raise ValueError(f"{sample}: the sample spans {days} day; a time split needs at least two")
    holdout = max(1, days // 4)
    spec: dict[str, Any] = {
        "name": name,
        "description": f"Scaffolded by `ml-platform init` from {sample.name}; review every REVIEW mark.",
        "task": "regression",
        "source": {"kind": "landing_dir", "options": {"path": f"landing/{name}"}},
        "partitioning": {
            "start": first.isoformat(),
            "end": last.isoformat(),
            "time": {"column": time_column, **({"format": time_format} if time_format else {})},
        },
        "main_table": {"name": _table_name(sample), "table": _table_name(sample), "columns": columns},
        "target": {"column": target, "name": "label"},
        "features": {
            "builder": "columns",
            "categorical": [
                c for c, col in columns.items() if col["dtype"] in ("str", "bool") and c != time_column
            ],
            "numeric": [c for c in numeric if c != target],
        },
        "estimator": {"kind": "hist_gradient_boosting", "params": {"random_state": 0}},
        "training": {"window_partitions": days - holdout, "holdout_partitions": holdout},
        "gate": {"metric": "r2", "min_value": 0.0},
    }
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
    note = (
        f"# Spec scaffolded from {sample.name} on {dt.date.today().isoformat()} by `ml-platform init`.\n"
        f"# REVIEW the target: '{target}' (the last numeric column) as a regression target is only a\n"
        "# proposal — for classification set task: classification and target.positive_class (or\n"
        "# greater_than), and a classification gate metric (roc_auc). Ranges (ge/le) are the sample's.\n"
        "# Check with: ml-platform validate --spec THIS_FILE\n"
    )
    return note + text


def _table_name(sample: Path) -> str:
    stem = "".join(ch if ch.isalnum() else "_" for ch in sample.stem.lower()).strip("_") or "data"
    return stem if stem[0].isalpha() else f"t_{stem}"
