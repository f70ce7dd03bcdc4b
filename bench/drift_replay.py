"""Replay of the real 2013 flights day by day through the platform's own assets and sensors, in
process on a local Dagster instance and a SQLite MLflow: once with a sensor fault injected from a
known day (origin visibility reported in km instead of miles: ``visib * 1.609``), once without.

Per replay day: ingest the day (raw → cleaned → features, with ``feature_drift``), score it
(``predictions`` + ``prediction_drift``, ``live_performance`` + ``performance_decay``), tick the drift
alert and the retrain sensor (and run what it asks), tick the deploy sensor (and deploy). Reports days
from onset to the first drift alarm, to the retrain, to a new champion, and the alarms on the stable
replay. Then the real seasonal drift of 2013: each month's features against the Jan–Mar reference,
with the same pure functions (``ml/drift.py``).

    PYTHONPATH=$PWD .venv/bin/python -m bench.drift_replay [--days 21] [--onset 2013-04-08] [--out docs/drift_replay.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform.ops.lifecycle import Lifecycle
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs import load_spec
from ml_platform.specs.models import PipelineSpec

START, TRAINED_UNTIL = dt.date(2013, 1, 1), dt.date(2013, 3, 31)
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _live(mlflow: Any, model: str) -> str:
    mv = mlflow.version_by_alias(model, "champion")
    return str(mv.version) if mv is not None else "none"


def spec_for(data_dir: Path, end: dt.date) -> PipelineSpec:
    from flights_delay import SPEC_DIR

    return load_spec(
        SPEC_DIR / "flights_delay.yaml",
        {
            "source": {"options": {"data_dir": str(data_dir)}},
            "partitioning": {"start": START.isoformat(), "end": end.isoformat()},
            "training": {
                "window_partitions": 60,
                "holdout_partitions": 14,
                "retrain_after_new_partitions": 1000,
            },
            "estimator": {"params": {"max_iter": 150, "learning_rate": 0.08, "random_state": 0}},
            "evaluation": {"bootstrap_samples": 50},
            "gate": {"min_value": 0.65, "min_improvement": 0.0},
        },
    )


def data_copy(root: Path, onset: dt.date | None) -> Path:
    """The bundled files, with the weather's ``visib`` scaled by 1.609 from ``onset`` on."""
    from flights_delay.source import package_data_dir

    src, out = package_data_dir(), root / ("faulty" if onset else "clean")
    out.mkdir(parents=True)
    for name in ("flights.csv.zip", "planes.csv"):
        (out / name).symlink_to(src / name)
    weather = pd.read_csv(src / "weather.csv", low_memory=False)
    if onset:
        when = pd.to_datetime(dict(year=weather.year, month=weather.month, day=weather.day))
        weather.loc[when >= pd.Timestamp(onset), "visib"] *= 1.609
    weather.to_csv(out / "weather.csv", index=False)
    return out


class Sensor:
    """A sensor ticked as the daemon would (cursor kept) with its requests executed in process."""

    def __init__(self, defs: dg.Definitions, name: str, instance: dg.DagsterInstance) -> None:
        self.defs, self.instance, self.cursor = defs, instance, None
        self.sensor = defs.resolve_sensor_def(name)

    def tick(self) -> tuple[list[dg.RunRequest], str]:
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources=dict(self.defs.resources or {})
        ) as context:
            result = self.sensor(context)
        self.cursor = getattr(result, "cursor", None) or self.cursor
        skip = getattr(result, "skip_reason", None)
        return list(getattr(result, "run_requests", None) or []), getattr(skip, "skip_message", "") or ""

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def(str(request.job_name or self.sensor.job_name))
        return job.execute_in_process(
            instance=self.instance,
            run_config={**dict(request.run_config or {}), **QUIET},
            tags=dict(request.tags),
            raise_on_error=False,
        )


def replay(root: Path, days: int, onset: dt.date | None) -> dict[str, Any]:
    data = data_copy(root, onset)
    first = TRAINED_UNTIL + dt.timedelta(days=1)
    last = TRAINED_UNTIL + dt.timedelta(days=days)
    spec = spec_for(data, last)
    home = root / ("home_faulty" if onset else "home_clean")
    (home / "dagster").mkdir(parents=True)
    env = local_environment(home)
    log: dict[str, Any] = {"onset": onset.isoformat() if onset else None, "days": []}
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        defs = build_definitions([spec], env)
        life = Lifecycle(defs, instance, PipelineNames(spec), log_level="ERROR")
        started = time.perf_counter()
        assert life.ingest(START.isoformat(), TRAINED_UNTIL.isoformat()).success
        assert life.train(reason="bench: initial").success
        assert life.tick_deploy_sensor().run_ids
        log["setup_seconds"] = round(time.perf_counter() - started, 1)
        score = defs.resolve_job_def(f"{spec.name}_score")
        alerts = Sensor(defs, f"{spec.name}_drift_alert", instance)
        retrain = Sensor(defs, f"{spec.name}_retrain_sensor", instance)
        retrain.tick()  # the initial ingest is not news
        mlflow = env.mlflow()
        day = first
        while day <= last:
            key, t0 = day.isoformat(), time.perf_counter()
            ingest = life.ingest(key, key)
            scored = score.execute_in_process(
                instance=instance, partition_key=key, run_config=QUIET, raise_on_error=False
            )
            checks = {e.check_name: e for r in (ingest, scored) for e in r.get_asset_check_evaluations()}
            _, alert = alerts.tick()
            requests, why = retrain.tick()
            entry: dict[str, Any] = {
                "day": key,
                "champion": _live(mlflow, spec.model_name),
                **{
                    name: {
                        "passed": e.passed,
                        "max_psi": _value(e, "max_psi"),
                        "worst": _value(e, "worst_feature"),
                        "reason": _value(e, "retrain_reason"),
                    }
                    for name, e in checks.items()
                    if name in ("feature_drift", "prediction_drift", "performance_decay")
                },
                "alert": alert,
            }
            for request in requests:
                run = retrain.run(request)
                entry["retrain"] = request.run_config["ops"][f"{spec.name}__model"]["config"]["reason"]
                entry["retrain_gate"] = [e.passed for e in run.get_asset_check_evaluations()]
                deployed = life.tick_deploy_sensor()
                entry["deployed"] = bool(deployed.run_ids)
            entry["champion_after"] = _live(mlflow, spec.model_name)
            entry["seconds"] = round(time.perf_counter() - t0, 1)
            log["days"].append(entry)
            print(json.dumps(entry, default=str)[:400], flush=True)
            day += dt.timedelta(days=1)
    return log


def _value(evaluation: dg.AssetCheckEvaluation, key: str) -> Any:
    value = dict(evaluation.metadata).get(key)
    return None if value is None else getattr(value, "value", value)


def summary(log: dict[str, Any]) -> dict[str, Any]:
    days = log["days"]
    alarms = [d["day"] for d in days if not d.get("feature_drift", {}).get("passed", True)]
    score_alarms = [d["day"] for d in days if not d.get("prediction_drift", {}).get("passed", True)]
    decays = [d["day"] for d in days if not d.get("performance_decay", {}).get("passed", True)]
    retrains = [d["day"] for d in days if "retrain" in d]
    new_champions = [d["day"] for d in days if d["champion_after"] != d["champion"]]
    onset = log["onset"]

    def after(dates: list[str]) -> int | None:
        if not onset:
            return None
        later = [x for x in dates if x >= onset]
        return (dt.date.fromisoformat(later[0]) - dt.date.fromisoformat(onset)).days if later else None

    return {
        "onset": onset,
        "replayed_days": len(days),
        "feature_drift_alarms": alarms,
        "prediction_drift_alarms": score_alarms,
        "decay_alarms": decays,
        "retrains": retrains,
        "new_champions": new_champions,
        "days_onset_to_alarm": after(alarms),
        "days_onset_to_retrain": after(retrains),
        "days_onset_to_new_champion": after(new_champions),
        "mean_seconds_per_day": round(sum(d["seconds"] for d in days) / max(len(days), 1), 1),
        "setup_seconds": log.get("setup_seconds"),
    }


def seasonal(root: Path) -> list[dict[str, Any]]:
    """Each month of 2013 against a Jan–Mar reference profile, per feature PSI (top 3) and whether
    the drift rule fires on the month's days (share of days)."""
    from bench.common import read_clean
    from ml_platform.ml.cleaning import PARTITION_COLUMN
    from ml_platform.ml.drift import build_profile, frame_drift
    from ml_platform.ml.features import build_features
    from ml_platform.sources.base import build_source

    spec = spec_for(data_copy(root / "seasonal", None), dt.date(2013, 12, 31))
    source = build_source(spec.source, root / "seasonal_home")
    tables = read_clean(spec, source, START, dt.date(2013, 12, 31), [spec.main_table, *spec.auxiliary_tables])
    main = tables.pop(spec.main_table.name)
    features = build_features(spec, main, tables)
    month = pd.to_datetime(features[PARTITION_COLUMN]).dt.month
    ref = features[month <= 3]
    profile = build_profile(
        ref, spec.features.numeric, spec.features.categorical, ref[PARTITION_COLUMN].to_numpy()
    )
    d = spec.monitoring.drift
    out = []
    for m in range(1, 13):
        part = features[month == m]
        whole = frame_drift(profile, part, d.psi_threshold, d.natural_margin, d.p_value)
        daily = [
            any(
                f.drifted
                for f in frame_drift(profile, g, d.psi_threshold, d.natural_margin, d.p_value, d.min_rows)
            )
            for _, g in part.groupby(PARTITION_COLUMN)
        ]
        out.append(
            {
                "month": m,
                "top_month_psi": {f.feature: round(f.psi, 3) for f in whole[:3]},
                "days_with_drift_alarm": f"{sum(daily)}/{len(daily)}",
            }
        )
        print(out[-1], flush=True)
    return out


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--onset", default="2013-04-08")
    parser.add_argument("--out", default="docs/drift_replay.json")
    parser.add_argument("--skip-seasonal", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="drift-replay-") as tmp:
        root = Path(tmp)
        faulty = replay(root, args.days, dt.date.fromisoformat(args.onset))
        clean = replay(root, args.days, None)
        result: dict[str, Any] = {
            "faulty": summary(faulty),
            "stable": summary(clean),
            "faulty_days": faulty["days"],
            "stable_days": clean["days"],
        }
        if not args.skip_seasonal:
            result["seasonal"] = seasonal(root)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps({k: result[k] for k in ("faulty", "stable", "wall_seconds")}, indent=2))


if __name__ == "__main__":
    main()
