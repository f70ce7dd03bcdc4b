"""Batch scoring throughput (issue 13): the platform's ``predictions`` asset vs plain
``mlflow.pyfunc`` on the same rows; with ``--engine spark`` (issue 17), ``mlflow.pyfunc.spark_udf``
vs pandas predict on the same features at 1× and 30×.

    python -m bench.batch_scoring [--rounds 3] [--ranges month,year] [--no-loop] [--day-runs 7] [--home DIR]
    python -m bench.batch_scoring --engine spark [--engines pandas,spark,spark:omp1] [--scales 1] [--rounds 2]
    python -m bench.batch_scoring --engine spark --engines spark:omp1 --scales 30 --rounds 1

Both start from a real champion: the flights year ingested, trained, gated and deployed through the
platform's own Dagster path (``Lifecycle``) into ``--home`` (kept and reused when given).

pandas: for a month (December) and the year of 2013, each round runs, in alternating order, (1) the
``<pipeline>_score`` job with ``predictions`` selected, as one single-run backfill over the range
(the real asset function, IO manager and instance; its parts timed by wrapping the functions it
calls), (2) ``pyfunc.load_model`` once and ``predict`` day by day, (3) one ``predict`` of all rows.
spark: see :mod:`bench.batch_scoring_engines`; each engine in its own process, peak RSS sampled.
Results: ``docs/batch_scoring.json`` and the marked sections of ``docs/batch_scoring.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from bench.batch_scoring_report import update_benchmarks_summary, write_report
from bench.common import local_instance_home
from bench.serving import machine

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = "flights_delay"
PARTITION = "_partition"
RANGES = {"month": ("2013-12-01", "2013-12-31"), "year": ("2013-01-01", "2013-12-31")}


class Platform:
    """The flights pipeline on a local instance in ``home``, with a deployed champion."""

    def __init__(self, home: Path) -> None:
        local_instance_home(home, ROOT)
        import dagster as dg
        from flights_delay import SPEC_DIR

        from ml_platform.definitions import build_definitions
        from ml_platform.environments import current_environment
        from ml_platform.ops.lifecycle import Lifecycle
        from ml_platform.pipeline.names import PipelineNames
        from ml_platform.specs import load_spec

        self.home = home
        self.spec = load_spec(SPEC_DIR / "flights_delay.yaml")
        self.env = current_environment()
        self.defs = build_definitions([self.spec], self.env)
        self.names = PipelineNames(self.spec)
        self.instance = dg.DagsterInstance.get()
        self.life = Lifecycle(self.defs, self.instance, self.names, log_level="CRITICAL")
        self.registry = self.env.mlflow()
        self.setup_seconds = 0.0
        if self.registry.version_by_alias(PIPELINE, "champion") is None:
            t0 = time.perf_counter()
            if not self.life.ingest("2013-01-01", "2013-12-31").success:
                raise SystemExit("ingest failed")
            if not self.life.train(reason="benchmark: batch scoring").success:
                raise SystemExit("training failed")
            if not self.life.tick_deploy_sensor().run_ids:
                raise SystemExit("no champion deployed")
            self.setup_seconds = time.perf_counter() - t0
        champion = self.registry.version_by_alias(PIPELINE, "champion")
        assert champion is not None  # deployed above
        self.version = str(champion.version)
        self.model_uri = f"models:/{PIPELINE}/{self.version}"
        self.tracking_uri = self.registry.tracking_uri

    def features_dir(self) -> Path:
        return self.home / "storage" / PIPELINE / "features"

    def day_frames(self, first: str, last: str) -> list[Any]:
        import pandas as pd

        days = [
            dt.date.fromisoformat(first) + dt.timedelta(days=i)
            for i in range((dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1)
        ]
        return [pd.read_parquet(self.features_dir() / f"{d.isoformat()}.parquet") for d in days]

    def stored_scores(self, first: str, last: str) -> Any:
        import pandas as pd

        folder = self.home / "storage" / PIPELINE / "predictions"
        keys = [f[PARTITION].iloc[0] for f in self.day_frames(first, last) if len(f)]
        return pd.concat([pd.read_parquet(folder / f"{k}.parquet") for k in keys])["score"].to_numpy()

    def score_run(self, first: str, last: str) -> dict[str, float]:
        """The score job's ``predictions`` over ``first..last`` as one run; the asset's parts timed."""
        from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

        from bench.batch_scoring_probe import Probe

        job = self.defs.resolve_job_def(f"{PIPELINE}_score")
        with Probe() as probe:
            t0 = time.perf_counter()
            result = job.execute_in_process(
                instance=self.instance,
                asset_selection=[self.names.predictions_key],
                run_config=self.life.loggers,
                tags={ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last},
                raise_on_error=False,
            )
            wall = time.perf_counter() - t0
        if not result.success:
            raise SystemExit(f"score run {first}..{last} failed (run {result.run_id})")
        return {"seconds_run": wall, **probe.seconds, **step_seconds(self.instance, result.run_id)}


def step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """The run's start → end and the predictions step's start → success, from the event log."""
    logs = instance.all_logs(run_id)
    kinds: dict[str, float] = {}
    for entry in logs:
        if entry.dagster_event is not None:
            kinds.setdefault(entry.dagster_event.event_type_value, entry.timestamp)
    return {
        "seconds_step": kinds["STEP_SUCCESS"] - kinds["STEP_START"],
        "seconds_run_events": kinds["PIPELINE_SUCCESS"] - kinds["PIPELINE_START"]
        if "PIPELINE_START" in kinds
        else float("nan"),
    }


def pyfunc_runs(uri: str, frames: list[Any], cols: list[str], loop_too: bool = True) -> dict[str, Any]:
    """(2) load once, predict day by day; (3) load once, predict all rows; both with the same model."""
    import mlflow
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    model = mlflow.pyfunc.load_model(uri)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop = [np.asarray(model.predict(f[cols]))[:, 1] for f in frames] if loop_too else []
    seconds_loop = time.perf_counter() - t0
    whole = pd.concat(frames, ignore_index=True)[cols]
    t0 = time.perf_counter()
    once = np.asarray(model.predict(whole))[:, 1]
    seconds_once = time.perf_counter() - t0
    out: dict[str, Any] = {"pyfunc_once": {"seconds_load": load, "seconds_predict": seconds_once}}
    if loop_too:
        if not np.allclose(np.concatenate(loop), once, rtol=0, atol=1e-12):
            raise SystemExit("pyfunc loop and one-shot scores differ")
        out = {"pyfunc_loop": {"seconds_load": load, "seconds_predict": seconds_loop}} | out
    return out | {"_scores": once}


def run_day_runs(args: argparse.Namespace, platform: Platform) -> list[dict[str, Any]]:
    """Days scored one run each (as declarative automation scores days that land one by one),
    with ``predict_scores``' one-thread limit for small batches on and off, alternating by round."""
    from ml_platform.ml import model_factory

    limit = model_factory.SINGLE_THREAD_ROWS
    days = [dt.date(2013, 12, 1) + dt.timedelta(days=i) for i in range(args.day_runs)]
    rows = sum(len(f) for f in platform.day_frames(days[0].isoformat(), days[-1].isoformat()))
    points = []
    for round_ in range(args.rounds):
        sides = [limit, 0] if round_ % 2 == 0 else [0, limit]
        for rows_limit in sides:
            model_factory.SINGLE_THREAD_ROWS = rows_limit
            try:
                runs = [platform.score_run(d.isoformat(), d.isoformat()) for d in days]
            finally:
                model_factory.SINGLE_THREAD_ROWS = limit
            path = "platform_per_day" + ("" if rows_limit else "_no_thread_limit")
            total = {k: sum(r[k] for r in runs) for k in runs[0]}
            name = f"{len(days)} days, one run each"
            point = {"range": name, "rows": rows, "round": round_, "path": path, **total}
            print(json.dumps(point), flush=True)
            points.append(point)
    return points


def run_pandas(args: argparse.Namespace, platform: Platform) -> dict[str, Any]:
    import numpy as np

    model = platform.registry.load_sklearn(platform.model_uri)
    cols = list(getattr(model, "feature_names_in_", platform.spec.features.model_columns))
    points: list[dict[str, Any]] = run_day_runs(args, platform) if args.day_runs else []
    for name in (r for r in args.ranges.split(",") if r):
        first, last = RANGES[name]
        frames = platform.day_frames(first, last)
        rows = sum(len(f) for f in frames)
        for round_ in range(args.rounds):
            sides = ["platform", "pyfunc"] if round_ % 2 == 0 else ["pyfunc", "platform"]
            for side in sides:
                if side == "platform":
                    measured: dict[str, Any] = {"platform": platform.score_run(first, last)}
                else:
                    measured = pyfunc_runs(platform.model_uri, frames, cols, not args.no_loop)
                    scores = measured.pop("_scores")
                for path, seconds in measured.items():
                    point = {"range": name, "rows": rows, "round": round_, "path": path, **seconds}
                    print(json.dumps(point), flush=True)
                    points.append(point)
        stored = platform.stored_scores(first, last)
        same = len(stored) == len(scores) and bool(np.allclose(stored, scores, rtol=0, atol=1e-12))
        points.append({"range": name, "check": "asset scores == pyfunc scores", "same": same})
    ranges = [r for r in args.ranges.split(",") if r]
    if args.day_runs:
        ranges.append(f"{args.day_runs} days, one run each")
    return {"points": points, "ranges": ranges}


def run_spark(args: argparse.Namespace, platform: Platform, factor: int) -> dict[str, Any]:
    import tempfile

    from bench.batch_scoring_engines import write_features
    from bench.run import measure

    data = Path(args.data_dir or tempfile.mkdtemp(prefix="mlp-bench-batch-"))
    t0 = time.perf_counter()
    made = write_features(platform.features_dir(), data / f"features_x{factor}", factor)
    made["seconds_write"] = time.perf_counter() - t0
    points: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        engines = args.engines.split(",")
        engines = engines if round_ % 2 == 0 else engines[::-1]
        for engine in engines:
            name, _, threads = engine.partition(":omp")  # "spark:omp1": OMP_NUM_THREADS=1 per UDF worker
            threads = threads or (str(args.omp_threads) if args.omp_threads else "")
            cmd = [
                sys.executable, "-m", "bench.batch_scoring_engines", "--engine", name,
                "--data", str(data / f"features_x{factor}"), "--out", str(data / f"scores_{name}_x{factor}"),
                "--model-uri", platform.model_uri, "--tracking-uri", platform.tracking_uri,
                "--driver-memory", args.driver_memory,
            ]  # fmt: skip
            if threads and name == "spark":
                cmd += ["--omp-threads", threads]
            point = {"scale": factor, "round": round_, **measure(cmd)}
            print(json.dumps(point), flush=True)
            points.append(point)
    return {"points": points, "features": made, "data_dir": str(data)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["pandas", "spark"], default="pandas")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--home", type=Path, default=None, help="kept; reused if it has a champion")
    parser.add_argument("--ranges", default="month,year", help="pandas: of " + ", ".join(RANGES))
    parser.add_argument("--day-runs", type=int, default=0, help="pandas: also N days scored one run each")
    parser.add_argument("--no-loop", action="store_true", help="pandas: skip the day-by-day pyfunc loop")
    parser.add_argument(
        "--scales",
        default="1",
        help="spark: feature scales (tiled, jittered); pandas one-shot does not fit at 30×",
    )
    parser.add_argument(
        "--engines",
        default="pandas,spark",
        help="spark: the engines compared (spark:omp1: 1 OpenMP thread per worker)",
    )
    parser.add_argument("--omp-threads", type=int, default=None, help="spark: OMP_NUM_THREADS per UDF worker")
    parser.add_argument("--data-dir", default=None, help="spark: where the scaled features go (temp)")
    parser.add_argument("--driver-memory", default="4g", help="spark: spark.driver.memory")
    parser.add_argument("--report-only", action="store_true", help="re-render --out from --json")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "batch_scoring.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "batch_scoring.md")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import tempfile

    home = (args.home or Path(tempfile.mkdtemp(prefix="mlp-bench-batch-home-"))).resolve()
    meta: dict[str, Any] = {
        "machine": machine(),
        "command": "python -m bench.batch_scoring " + " ".join(sys.argv[1:]),
        "rounds": args.rounds,
    }
    stored = json.loads(args.json.read_text()) if args.json.exists() else {}
    if args.report_only:
        write_report(args.out, stored)
        update_benchmarks_summary(args.json.parent)
        return
    platform = Platform(home)
    meta |= {"champion": platform.model_uri, "setup_seconds": platform.setup_seconds, "home": str(home)}
    parts = ["pandas"] if args.engine == "pandas" else [f"spark_{s}x" for s in args.scales.split(",") if s]
    for part in parts:
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        load_before = [round(x, 2) for x in os.getloadavg()]
        if part == "pandas":
            results = run_pandas(args, platform)
        else:
            results = run_spark(args, platform, int(part.split("_")[1][:-1]))
        done = {
            "started": started,
            "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
        }
        stored = json.loads(args.json.read_text()) if args.json.exists() else {}  # another part may have run
        if part == "pandas":  # ranges not measured now keep their earlier points
            kept = [
                p for p in stored.get("pandas", {}).get("points", []) if p["range"] not in results["ranges"]
            ]
            results["points"] = kept + results["points"]
            meta_by_range = stored.get("pandas", {}).get("meta_by_range", {})
            results["meta_by_range"] = meta_by_range | dict.fromkeys(results["ranges"], meta | done)
        stored[part] = {"meta": meta | done, **results}
        args.json.write_text(json.dumps(stored, indent=1, default=float) + "\n")
        write_report(args.out, stored)
        update_benchmarks_summary(args.json.parent)
    print(json.dumps({"meta": meta}))


if __name__ == "__main__":
    main()
