"""Latency through the daemon: one new day landing → ingested, featurized, scored, checked, and (when
it triggers a retrain) a new champion — with the real webserver-less ``dagster-daemon`` on a local
instance, the new-data, retrain and deploy sensors on, and the flights data delivered to a landing
directory as files.

    python -m bench.latency [--home DIR] [--history-days 28] [--sensor-interval 5] [--runs 2]
                            [--scoring with-ingest|separate] [--out docs/latency.json]

History (``--history-days`` from 2013-01-01) is delivered first and goes through the same daemon
path to a first champion; then each measured run lands the next day and times the stages from the
moment its files appear. Results: ``docs/latency.md`` and ``docs/latency.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import daemon_home, stop_process

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = "flights_delay"
START = dt.date(2013, 1, 1)


def _spec(home: Path, history_days: int, runs: int, interval: int, scoring: str) -> dict[str, Any]:
    from flights_delay import SPEC_DIR

    from ml_platform.specs import load_spec

    end = START + dt.timedelta(days=history_days + runs - 1)
    holdout = max(5, history_days // 4)
    overrides = {
        "source": {
            "kind": "landing_dir",
            "options": {"path": str(home / "landing"), "quiet_seconds": 0},  # files renamed into place
            "sensor": {"minimum_interval_seconds": interval},
        },
        "partitioning": {"start": START.isoformat(), "end": end.isoformat()},
        "training": {
            "window_partitions": history_days - holdout,
            "holdout_partitions": holdout,
            "retrain_after_new_partitions": 1,
        },
        "sensors": {
            "retrain_interval_seconds": interval,
            "deploy_interval_seconds": interval,
            "scoring_interval_seconds": interval,
            "score_in_ingest_run": scoring == "with-ingest",
        },
        "estimator": {"params": {"max_iter": 80, "learning_rate": 0.1, "random_state": 0}},
        "evaluation": {"bootstrap_samples": 20},
        "gate": {"min_value": 0.6, "min_improvement": 0.0},
    }
    spec = load_spec(SPEC_DIR / "flights_delay.yaml", overrides)
    return spec.model_dump(mode="json", exclude_unset=True)


def _publish(home: Path, days: list[dt.date], static: bool) -> None:
    from flights_delay.source import Nycflights13Source

    from devtools.publish import FilePublisher

    source = Nycflights13Source(cache_dir=str(home / "cache"))
    out = FilePublisher(home / "landing", fmt="csv")
    if static:
        out.publish_static("planes", source.fetch_static("planes").drop(columns=["_source"]))
    for day in days:
        for table in ("flights", "weather"):
            frame = source.fetch_days(table, day, day, ("year", "month", "day"))
            out.publish_day(table, day, frame.drop(columns=["_source", "_partition"]))


def _start_daemon(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(home / "daemon.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(home / "workspace.yaml")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),  # noqa: PLW1509
    )


class Watch:
    """Reads the instance and the registry the daemon's runs write to."""

    def __init__(self, home: Path) -> None:
        import dagster as dg

        from ml_platform.integrations.mlflow import MlflowRegistry

        self.dg = dg
        self.instance = dg.DagsterInstance.get()
        self.mlflow = MlflowRegistry(tracking_uri=f"sqlite:///{home / 'mlflow.db'}")

    def materialized(self, asset: str, day: str) -> float | None:
        key = self.dg.AssetKey([PIPELINE, asset])
        if not self.instance.has_asset_key(key):
            return None
        records = self.instance.fetch_materializations(
            self.dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
        ).records
        return records[0].timestamp if records else None

    def checked(self, asset: str, since: float) -> float | None:
        """When the last check on ``asset`` finished after ``since`` (None while any has not)."""
        keys = [k for k in self._check_keys() if k.asset_key == self.dg.AssetKey([PIPELINE, asset])]
        stamps = []
        for key in keys:
            records = self.instance.event_log_storage.get_asset_check_execution_history(key, limit=5)
            done = [
                r.event.timestamp
                for r in records
                if r.event is not None
                and r.event.timestamp > since
                and r.status.value in ("SUCCEEDED", "FAILED")
            ]
            if not done:
                return None
            stamps.append(max(done))
        return max(stamps) if stamps else None

    def _check_keys(self) -> list[Any]:
        from ml_platform.definitions import build_definitions
        from ml_platform.environments import current_environment
        from ml_platform.specs import configured_specs

        if not hasattr(self, "_keys"):
            defs = build_definitions(configured_specs(), current_environment())
            self._keys = list(defs.resolve_asset_graph().asset_check_keys)
        return self._keys

    def runs_since(self, since: float) -> list[dict[str, Any]]:
        """Each run created after ``since``, oldest first: its job, what asked for it, and when it was
        created (by a sensor), started (a worker process up) and ended, in seconds from ``since``."""
        created_after = dt.datetime.fromtimestamp(since, tz=dt.UTC)
        records = self.instance.get_run_records(filters=self.dg.RunsFilter(created_after=created_after))
        out = []
        for record in sorted(records, key=lambda r: r.create_timestamp.timestamp()):
            tags = record.dagster_run.tags
            out.append(
                {
                    "job": record.dagster_run.job_name.removeprefix(f"{PIPELINE}_"),
                    "by": tags.get("dagster/sensor_name", "").removeprefix(f"{PIPELINE}_") or "-",
                    "created": round(record.create_timestamp.timestamp() - since, 1),
                    "started": round(record.start_time - since, 1) if record.start_time else None,
                    "ended": round(record.end_time - since, 1) if record.end_time else None,
                }
            )
        return out

    def champion(self) -> str | None:
        try:
            mv = self.mlflow.version_by_alias(PIPELINE, "champion")
        except Exception:  # noqa: BLE001 - the registry may not exist yet
            return None
        return str(mv.version) if mv is not None else None


def _wait(what: str, probe: Any, timeout: float, poll: float = 0.5) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = probe()
        if value:
            return value if isinstance(value, float) else time.time()
        time.sleep(poll)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def _measure_day(watch: Watch, home: Path, day: dt.date, timeout: float) -> dict[str, Any]:
    """Land ``day`` and time each stage from the moment its files appear."""
    key = day.isoformat()
    before = watch.champion()
    landed = time.time()
    _publish(home, [day], static=False)
    run: dict[str, Any] = {"day": key}
    stages = [
        ("ingested", lambda: watch.materialized("cleaned_flights", key)),
        ("features", lambda: watch.materialized("features", key)),
        ("checks_evaluated", lambda: watch.checked("cleaned_flights", landed)),
    ]
    if watch.instance.has_asset_key(watch.dg.AssetKey([PIPELINE, "predictions"])):
        stages.append(("scored", lambda: watch.materialized("predictions", key)))
    stages.append(("new_champion_serving", lambda: (watch.champion() or before) != before))
    for stage, probe in stages:
        run[stage] = round(_wait(stage, probe, timeout) - landed, 1)
    run["champion"] = watch.champion()
    run["runs"] = watch.runs_since(landed)  # where the time went: sensor waits, worker starts, work
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--history-days", type=int, default=28)
    parser.add_argument("--runs", type=int, default=2, help="new days landed and measured, one by one")
    parser.add_argument(
        "--sensor-interval", type=int, default=5, help="new-data, retrain and deploy sensor interval (s)"
    )
    parser.add_argument(
        "--scoring",
        choices=["with-ingest", "separate"],
        default="with-ingest",
        help="score a new day in the new-data sensor's run (the default) or in its own automation run",
    )
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "latency.json")
    args = parser.parse_args()
    home = (args.home or Path(tempfile.mkdtemp(prefix="latency-"))).resolve()
    env = daemon_home(home, ROOT)
    import yaml

    spec = _spec(home, args.history_days, args.runs, args.sensor_interval, args.scoring)
    (home / "specs" / f"{PIPELINE}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (home / "workspace.yaml").write_text(
        yaml.safe_dump({"load_from": [{"python_module": {"module_name": "ml_platform.definitions",
                                                          "working_directory": str(ROOT)}}]})
    )  # fmt: skip
    history = [START + dt.timedelta(days=i) for i in range(args.history_days)]
    _publish(home, history, static=True)
    daemon = _start_daemon(home, env)
    results: dict[str, Any] = {
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "load_before": os.getloadavg()[0],
        "history_days": args.history_days,
        "sensor_interval_seconds": args.sensor_interval,
        "scoring": args.scoring,
        "runs": [],
    }
    try:
        watch = Watch(home)
        t0 = time.time()
        _wait("the first champion", watch.champion, args.timeout)
        results["seconds_history_to_first_champion"] = round(time.time() - t0, 1)
        for i in range(args.runs):
            run = _measure_day(watch, home, START + dt.timedelta(days=args.history_days + i), args.timeout)
            results["runs"].append(run)
            print(json.dumps(run), flush=True)
    finally:
        stop_process(daemon)
    results["load_after"] = os.getloadavg()[0]
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
