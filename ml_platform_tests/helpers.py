"""Shared test data: the bundled flights spec shortened to two months, and a synthetic regression spec."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flights_delay import SPEC_DIR

from ml_platform.specs import load_spec, parse_spec
from ml_platform.specs.models import PipelineSpec

SHORT_START, SHORT_END = "2013-01-01", "2013-02-28"

SHORT_OVERRIDES: dict[str, Any] = {
    "partitioning": {"start": SHORT_START, "end": SHORT_END},
    "training": {"window_partitions": 45, "holdout_partitions": 14},
    "estimator": {"params": {"max_iter": 120, "learning_rate": 0.08, "random_state": 0}},
    "evaluation": {"bootstrap_samples": 40},
    "gate": {"min_value": 0.65, "min_improvement": 0.002},
}


def short_flights_spec(**extra: Any) -> PipelineSpec:
    """The real flights spec over Jan–Feb 2013 (45 training days, 14 holdout days)."""
    overrides = {**SHORT_OVERRIDES, **extra}
    return load_spec(SPEC_DIR / "flights_delay.yaml", overrides)


def data_dir() -> Path:
    from flights_delay.source import package_data_dir

    return package_data_dir()


def read_table(name: str) -> pd.DataFrame:
    files = {"flights": "flights.csv.zip", "weather": "weather.csv", "planes": "planes.csv"}
    return pd.read_csv(data_dir() / files[name], low_memory=False)


def synthetic_regression_spec(landing: Path, days: int = 20) -> PipelineSpec:
    """A second, tiny pipeline: regression on synthetic daily data delivered to a landing dir."""
    return parse_spec(
        {
            "name": "synthetic_demand",
            "task": "regression",
            "source": {"kind": "landing_dir", "options": {"path": str(landing), "quiet_seconds": 0}},
            "partitioning": {
                "start": "2024-01-01",
                "end": (dt.date(2024, 1, 1) + dt.timedelta(days=days - 1)).isoformat(),
            },
            "main_table": {
                "name": "sales",
                "table": "sales",
                "primary_key": ["store", "year", "month", "day"],
                "columns": {
                    "store": {"dtype": "str"},
                    "year": {"dtype": "int"},
                    "month": {"dtype": "int"},
                    "day": {"dtype": "int"},
                    "price": {"dtype": "float", "ge": 0},
                    "promo": {"dtype": "int", "ge": 0, "le": 1},
                    "units": {"dtype": "float", "nullable": True},
                },
            },
            "target": {"column": "units", "name": "units_sold"},
            "features": {
                "builder": "columns",
                "categorical": ["store"],
                "numeric": ["price", "promo"],
                "slice_columns": ["store"],
            },
            "estimator": {"kind": "linear", "params": {"alpha": 1.0}},
            "training": {"window_partitions": days - 5, "holdout_partitions": 5},
            "evaluation": {"bootstrap_samples": 20, "smoke_sample_rows": 5},
            "gate": {"metric": "rmse", "max_value": 50.0, "min_improvement": 0.0},
        }
    )


def write_synthetic_landing(landing: Path, days: int = 20, stores: int = 8, seed: int = 0) -> None:
    """One CSV per day under ``landing/sales``; units depend on price, promo and store."""
    rng = np.random.default_rng(seed)
    (landing / "sales").mkdir(parents=True, exist_ok=True)
    effect = {f"s{i}": rng.normal(50, 10) for i in range(stores)}
    for d in range(days):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=d)
        price = rng.uniform(1, 10, stores)
        promo = rng.integers(0, 2, stores)
        names = list(effect)
        units = [
            effect[s] - 3 * p + 15 * q + rng.normal(0, 2) for s, p, q in zip(names, price, promo, strict=True)
        ]
        pd.DataFrame(
            {
                "store": names,
                "year": day.year,
                "month": day.month,
                "day": day.day,
                "price": price,
                "promo": promo,
                "units": units,
            }
        ).to_csv(landing / "sales" / f"{day.isoformat()}.csv", index=False)


def write_spec(spec: PipelineSpec, directory: Path) -> Path:
    """The spec as a YAML file in ``directory`` (for ``ML_PLATFORM_SPEC_DIR``)."""
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{spec.name}.yaml"
    path.write_text(
        yaml.safe_dump(spec.model_dump(mode="json", exclude_unset=True, by_alias=True), sort_keys=False)
    )
    return path


def timed_events_spec(
    landing: Path, start: str, end: str, granularity: str, timezone: str, training: dict, **extra: Any
) -> PipelineSpec:
    """A tz-aware fraud-event table (``ts``, ``amount``, ``fraud``) on a landing dir, partitioned by
    ``granularity`` in ``timezone``: the spec the hourly/weekly and DST tests share."""
    return parse_spec(
        {
            "name": "events",
            "task": "classification",
            "source": {"kind": "landing_dir", "options": {"path": str(landing), "quiet_seconds": 0}},
            "partitioning": {
                "start": start,
                "end": end,
                "granularity": granularity,
                "time": {"column": "ts", "timezone": timezone},
            },
            "main_table": {
                "name": "events",
                "table": "events",
                "columns": {
                    "ts": {"dtype": "datetime"},
                    "amount": {"dtype": "float"},
                    "fraud": {"dtype": "bool"},
                },
            },
            "target": {"column": "fraud", "name": "is_fraud", "positive_class": True},
            "features": {"builder": "columns", "numeric": ["amount"]},
            "estimator": {"kind": "linear"},
            "training": training,
            "gate": {"metric": "roc_auc", "min_value": 0.5},
            **extra,
        }
    )
