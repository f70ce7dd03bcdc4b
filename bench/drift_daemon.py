"""The drift replay through the daemon path: a real ``dagster-daemon`` on a local instance (new-data,
retrain, deploy sensors and the scoring automation on, as ``make dev`` runs them), the 2013 flights
delivered day by day as files into a landing directory (``devtools/publish.py``), and a sensor fault
injected at the source from a known day (the weather's ``visib`` reported in km: ``× 1.609``). The
stable replay lands the same days without the fault; both run at once, each with its own daemon.

Per replay: ``--history`` days from 2013-01-01 land first and go through the daemon to a first
champion (the retrain sensor counts them: ``retrain_after_new_partitions`` = the history), then each
of ``--days`` days lands, and the bench waits until the day is ingested, scored and evaluated and
the daemon's runs are quiet (a retrain and its deploy included). Nothing is ticked or run by the
bench: it only lands files and reads the instance and the registry.

    python -m bench.drift_daemon [--history 21] [--days 14] [--onset-day 5] [--out docs/drift_daemon.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import daemon_home, stop_process
from bench.drift_daemon_report import summary
from bench.latency import PIPELINE, ROOT, Watch, _start_daemon, _wait

# Late winter to spring: a 14-day January reference alarms on the real cold snap of 2013-01-22..24
# (wx_temp PSI 8.2, every value below the reference), so the replay starts in mid-February.
START = dt.date(2013, 2, 15)

ACTIVE = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")
CHECKS = {
    "features": "feature_drift",
    "predictions": "prediction_drift",
    "live_performance": "performance_decay",
}


def spec_dict(home: Path, history: int, days: int, interval: int, cooldown_hours: float) -> dict[str, Any]:
    from flights_delay import SPEC_DIR

    from ml_platform.specs import load_spec

    holdout = max(5, history // 3)
    overrides = {
        "source": {
            "kind": "landing_dir",
            "options": {"path": str(home / "landing"), "quiet_seconds": 0},
            "sensor": {"minimum_interval_seconds": interval},
        },
        "partitioning": {"start": START.isoformat(), "end": (START + dt.timedelta(days=history + days - 1)).isoformat()},
        "training": {
            "window_partitions": history - holdout,
            "holdout_partitions": holdout,
            "retrain_after_new_partitions": history,  # the history trains v1; the replay alone never does
        },
        "monitoring": {"retrain_cooldown_hours": cooldown_hours},
        "sensors": {
            "retrain_interval_seconds": interval,
            "deploy_interval_seconds": interval,
            "scoring_interval_seconds": interval,
        },
        "estimator": {"params": {"max_iter": 80, "learning_rate": 0.1, "random_state": 0}},
        "evaluation": {"bootstrap_samples": 20},
        "gate": {"min_value": 0.6, "min_improvement": 0.0},
    }  # fmt: skip
    return load_spec(SPEC_DIR / "flights_delay.yaml", overrides).model_dump(mode="json", exclude_unset=True)


def publish(home: Path, days: list[dt.date], onset: dt.date | None, static: bool = False) -> None:
    """Land ``days`` (flights + weather); from ``onset`` on the weather's visibility is in km."""
    from flights_delay.source import Nycflights13Source

    from devtools.publish import FilePublisher

    source = Nycflights13Source(cache_dir=str(home / "cache"))
    out = FilePublisher(home / "landing", fmt="csv")
    if static:
        out.publish_static("planes", source.fetch_static("planes").drop(columns=["_source"]))
    for day in days:
        weather = source.fetch_days("weather", day, day, ("year", "month", "day"))
        if onset is not None and day >= onset:
            weather["visib"] = weather["visib"] * 1.609
        out.publish_day("weather", day, weather.drop(columns=["_source", "_partition"]))
        flights = source.fetch_days("flights", day, day, ("year", "month", "day"))
        out.publish_day(
            "flights", day, flights.drop(columns=["_source", "_partition"])
        )  # last: the day is complete


class Reader(Watch):
    """What the daemon's runs wrote: check results per day, runs, the champion."""

    def active_runs(self) -> int:
        statuses = [self.dg.DagsterRunStatus[s] for s in ACTIVE]
        return len(self.instance.get_run_records(self.dg.RunsFilter(statuses=statuses), limit=50))

    def quiet(self, seconds: float, timeout: float) -> float:
        """Wait until no run is queued or running for ``seconds`` in a row."""
        deadline, calm = time.time() + timeout, None
        while time.time() < deadline:
            if self.active_runs():
                calm = None
            elif calm is None:
                calm = time.time()
            elif time.time() - calm >= seconds:
                return calm
            time.sleep(1)
        raise SystemExit(f"runs still active after {timeout:.0f}s")

    def check(self, asset: str, day: str) -> dict[str, Any] | None:
        """The latest finished evaluation of the asset's monitoring check on ``day``."""
        from ml_platform.pipeline.sensors.check_records import metadata_text, new_evaluations
        from ml_platform.pipeline.sensors.retrain import _run_partitions

        key = self.dg.AssetCheckKey(self.dg.AssetKey([PIPELINE, asset]), CHECKS[asset])
        partitions_def = self.dg.DailyPartitionsDefinition(start_date=START.isoformat())
        for record, evaluation in reversed(new_evaluations(self.instance, key, 0, limit=500)):
            covered = (
                [record.partition]
                if record.partition
                else _run_partitions(self.instance, record.run_id, partitions_def)
            )
            if day in covered:
                meta = dict(evaluation.metadata)
                return {
                    "passed": evaluation.passed,
                    "worst": metadata_text(meta, "worst_feature"),
                    "max_psi": metadata_text(meta, "max_psi"),
                    "reason": metadata_text(meta, "retrain_reason"),
                    "champion_version": metadata_text(meta, "champion_version"),
                    # one evaluation covers a run's days (a range run): which of them failed
                    "days_failed": metadata_text(meta, "drifted_days") or metadata_text(meta, "decayed_days"),
                }  # fmt: skip
        return None

    def runs_since(self, since: float) -> list[dict[str, Any]]:
        records = self.instance.get_run_records(
            self.dg.RunsFilter(created_after=dt.datetime.fromtimestamp(since, dt.UTC))
        )
        return [
            {
                "job": r.dagster_run.job_name,
                "status": r.dagster_run.status.value,
                "trigger": r.dagster_run.tags.get("ml_platform/trigger"),
                "reason": r.dagster_run.tags.get("ml_platform/reason"),
                "created": round(r.create_timestamp.timestamp() - since, 1),
            }
            for r in sorted(records, key=lambda r: r.create_timestamp)
        ]  # fmt: skip


def replay_day(
    reader: Reader, home: Path, day: dt.date, onset: dt.date | None, args: argparse.Namespace
) -> dict[str, Any]:
    key, before, landed = day.isoformat(), reader.champion(), time.time()
    publish(home, [day], onset)
    entry: dict[str, Any] = {"day": key, "faulty": bool(onset and day >= onset), "champion": before}
    for asset in ("features", "predictions", "live_performance"):
        entry[f"{asset}_s"] = round(
            _wait(f"{asset} {key}", lambda a=asset: reader.materialized(a, key), args.timeout) - landed, 1
        )
    entry["quiet_s"] = round(reader.quiet(args.quiet, args.timeout) - landed, 1)
    for asset in CHECKS:
        entry[CHECKS[asset]] = reader.check(asset, key)
    entry["runs"] = reader.runs_since(landed)
    entry["champion_after"] = reader.champion()
    return entry  # fmt: skip


def run_replay(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    import yaml

    home = Path(tempfile.mkdtemp(prefix=f"drift-daemon-{kind}-"))
    env = daemon_home(home, ROOT)
    spec = spec_dict(home, args.history, args.days, args.interval, args.cooldown_hours)
    (home / "specs" / f"{PIPELINE}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    workspace = {
        "load_from": [
            {"python_module": {"module_name": "ml_platform.definitions", "working_directory": str(ROOT)}}
        ]
    }
    (home / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    first = START + dt.timedelta(days=args.history)
    onset = first + dt.timedelta(days=args.onset_day - 1) if kind == "faulty" else None
    log: dict[str, Any] = {
        "replay": kind,
        "home": str(home),
        "onset": onset.isoformat() if onset else None,
        "days": [],
    }
    publish(home, [START + dt.timedelta(days=i) for i in range(args.history)], None, static=True)
    daemon, t0 = _start_daemon(home, env), time.time()
    try:
        reader = Reader(home)
        _wait("the first champion", reader.champion, args.timeout * 2)
        reader.quiet(args.quiet, args.timeout)
        log["setup_seconds"] = round(time.time() - t0, 1)
        for i in range(args.days):
            entry = replay_day(reader, home, first + dt.timedelta(days=i), onset, args)
            log["days"].append(entry)
            args.out.write_text(json.dumps(log, indent=1, default=str) + "\n")  # partial results survive
            print(kind, json.dumps(entry, default=str)[:600], flush=True)
    finally:
        stop_process(daemon)
    log["wall_seconds"] = round(time.time() - t0, 1)
    return log  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replay", choices=("both", "faulty", "stable"), default="both")
    parser.add_argument(
        "--cooldown-hours",
        type=float,
        default=0.08,
        help="retrain cooldown on the replay's clock (a replay day takes about 2 min here: 0.08 h is ~2.5 days)",
    )
    parser.add_argument("--history", type=int, default=35, help="days landed before the replay (v1's data)")
    parser.add_argument("--days", type=int, default=12, help="days replayed one by one")
    parser.add_argument("--onset-day", type=int, default=4, help="replay day (1-based) the fault starts on")
    parser.add_argument("--interval", type=int, default=5, help="every sensor's interval (s)")
    parser.add_argument("--quiet", type=float, default=20, help="seconds without a run that end a day")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "drift_daemon.json")
    args = parser.parse_args()
    if args.replay != "both":
        args.out.write_text(json.dumps(run_replay(args.replay, args), indent=1, default=str) + "\n")
        return
    started, load = time.time(), os.getloadavg()[0]
    outs = {kind: Path(tempfile.mkstemp(suffix=f"-{kind}.json")[1]) for kind in ("faulty", "stable")}
    flags = [
        f"--{k.replace('_', '-')}={getattr(args, k)}"
        for k in ("history", "days", "onset_day", "interval", "quiet", "timeout", "cooldown_hours")
    ]
    children = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "bench.drift_daemon", "--replay", kind, "--out", str(out), *flags],
            cwd=ROOT,
        )
        for kind, out in outs.items()
    }  # the two replays at once, each with its own daemon, instance and registry
    codes = {kind: child.wait() for kind, child in children.items()}
    if any(codes.values()):
        raise SystemExit(f"a replay failed: { ({k: c.returncode for k, c in children.items()}) }")
    logs = {kind: json.loads(out.read_text()) for kind, out in outs.items()}
    result = {
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "settings": {k: getattr(args, k) for k in ("history", "days", "onset_day", "interval", "quiet", "cooldown_hours")},
        "faulty": summary(logs["faulty"]),
        "stable": summary(logs["stable"]),
        "wall_seconds": round(time.time() - started, 1),
        "faulty_days": logs["faulty"]["days"],
        "stable_days": logs["stable"]["days"],
    }  # fmt: skip
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(json.dumps({k: result[k] for k in ("faulty", "stable", "wall_seconds")}, indent=1))


if __name__ == "__main__":
    main()
