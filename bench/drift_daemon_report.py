"""What a daemon replay left in its instance and registry (``bench/drift_daemon.py``'s home): per
replayed day the three monitoring checks, then every train and deploy run with its trigger and
reason, and the alias history of ``champion``. For a replay that was cut short, or whose days were
landed several at once (the new-data sensor then ingests them as one range run).

    python -m bench.drift_daemon_report HOME --first 2013-03-22 --last 2013-03-28 --onset 2013-03-25 \
        [--landed EPOCH:FIRST_DAY ...] [--out docs/drift_daemon.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any


def report(home: Path, first: dt.date, last: dt.date, onset: dt.date | None) -> dict[str, Any]:
    os.environ.update(
        DAGSTER_HOME=str(home / "dagster_home"),
        ML_PLATFORM_HOME=str(home),
        ML_PLATFORM_SPEC_DIR=str(home / "specs"),
    )
    import dagster as dg

    from bench.drift_daemon import CHECKS, Reader
    from ml_platform.deploys import history as hist

    reader = Reader(home)
    days = []
    day = first
    while day <= last:
        key = day.isoformat()
        entry: dict[str, Any] = {"day": key, "faulty": bool(onset and day >= onset)}
        for asset, check in CHECKS.items():
            found = reader.check(asset, key)
            if found is not None:  # this day's own verdict, when the evaluation covered several days
                found["day_failed"] = key in (found.get("days_failed") or "")
            entry[check] = found
            entry[f"{asset}_at"] = reader.materialized(asset, key)
        days.append(entry)
        day += dt.timedelta(days=1)
    runs = []
    records = [
        r
        for job in ("flights_delay_train", "flights_delay_deploy")
        for r in reader.instance.get_run_records(dg.RunsFilter(job_name=job))
    ]
    for r in records:
        run = r.dagster_run
        runs.append(
            {
                "job": run.job_name,
                "status": run.status.value,
                "trigger": run.tags.get("ml_platform/trigger"),
                "reason": run.tags.get("ml_platform/reason"),
                "version": run.tags.get("ml_platform/model_version"),
                "created": r.create_timestamp.timestamp(),
                "ended": r.end_time,
            }
        )
    moves = hist.history(reader.mlflow, "flights_delay")
    return {
        "days": days,
        "runs": sorted(runs, key=lambda x: x["created"]),
        "champion_history": [
            {k: m.get(k) for k in ("seq", "event", "from", "to", "at", "reason")} for m in moves
        ],
        "champion": reader.champion(),
    }


def _failed(entry: dict[str, Any], check: str) -> bool:
    return (entry.get(check) or {}).get("passed") is False


def summary(log: dict[str, Any]) -> dict[str, Any]:
    days, onset = log["days"], log["onset"]
    retrains = [d for d in days if any(r["job"].endswith("_train") and r["trigger"] for r in d["runs"])]
    found = {
        "feature_drift_alarms": [d["day"] for d in days if _failed(d, "feature_drift")],
        "prediction_drift_alarms": [d["day"] for d in days if _failed(d, "prediction_drift")],
        "decay_alarms": [d["day"] for d in days if _failed(d, "performance_decay")],
        "retrains": [d["day"] for d in retrains],
        "retrain_reasons": [r["reason"] for d in retrains for r in d["runs"] if r["trigger"]],
        "new_champions": [f"{d['day']}: v{d['champion']} -> v{d['champion_after']}" for d in days if d["champion_after"] != d["champion"]],
    }  # fmt: skip

    def after(dates: list[str]) -> int | None:
        later = [x[:10] for x in dates if onset and x[:10] >= onset]
        return (dt.date.fromisoformat(later[0]) - dt.date.fromisoformat(onset)).days if later else None

    before_onset = [d for d in days if not d["faulty"]]
    return {
        "onset": onset,
        "replayed_days": len(days),
        **found,
        "false_alarms_before_onset_or_stable": sum(_failed(d, c) for d in before_onset for c in ("feature_drift", "prediction_drift", "performance_decay")),
        "days_onset_to_alarm": after(found["feature_drift_alarms"]),
        "days_onset_to_retrain": after(found["retrains"]),
        "days_onset_to_new_champion": after(found["new_champions"]),
        "seconds_landing_to_alarm_day_quiet": [d["quiet_s"] for d in retrains],
        "median_seconds_landing_to_scored": sorted(d["predictions_s"] for d in days)[len(days) // 2] if days else None,
        "setup_seconds": log.get("setup_seconds"),
        "wall_seconds": log.get("wall_seconds"),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("home", type=Path)
    parser.add_argument("--first", required=True)
    parser.add_argument("--last", required=True)
    parser.add_argument("--onset", default=None)
    parser.add_argument("--landed", action="append", default=[], help="EPOCH:FIRST_DAY of a landing")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    onset = dt.date.fromisoformat(args.onset) if args.onset else None
    out = report(args.home, dt.date.fromisoformat(args.first), dt.date.fromisoformat(args.last), onset)
    out["landings"] = [{"at": float(x.split(":")[0]), "first_day": x.split(":")[1]} for x in args.landed]
    text = json.dumps(out, indent=1, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
