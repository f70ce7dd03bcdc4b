"""The Dagster path: the same work through the real platform on the local instance (SQLite storage
as `make` configures it, MLflow on SQLite with registration, Parquet IO), in one process.

    python -m bench.dagster_path full --home DIR [--data-dir DIR] [--chunk-days N] [--feature-processes N]
    python -m bench.dagster_path ingest --home DIR --start D --end D [--data-dir DIR]

``full``: cold build of every partition, train, gate, deploy sensor → deployed champion.
``ingest``: raw → features for ``start..end`` into an existing (or new) home.
Prints one JSON line with timings.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time
import warnings
from pathlib import Path

from bench.common import day_ranges, local_instance_home

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["full", "ingest"])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--start", default="2013-01-01")
    parser.add_argument("--end", default="2013-12-31")
    parser.add_argument("--chunk-days", type=int, default=366, help="partitions per single-run backfill")
    parser.add_argument(
        "--feature-processes",
        type=int,
        default=0,
        help="pandas feature processes (0: the CPUs available; 1: in the step, as the floor builds them)",
    )
    parser.add_argument(
        "--gate-min-value",
        type=float,
        default=None,
        help="the gate's absolute bar (scaled copies carry less signal than the real flights)",
    )
    args = parser.parse_args()
    from ml_platform.ml.memory import quick_exit_collection

    quick_exit_collection()  # as the ml-platform CLI (whose demo this is) exits
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    local_instance_home(args.home, ROOT)

    import dagster as dg
    from flights_delay import SPEC_DIR

    from ml_platform.definitions import build_definitions
    from ml_platform.environments import current_environment
    from ml_platform.ops.lifecycle import Lifecycle
    from ml_platform.pipeline.names import PipelineNames
    from ml_platform.specs import load_spec

    overrides: dict = {"source": {"options": {"data_dir": args.data_dir}}} if args.data_dir else {}
    if args.gate_min_value is not None:
        overrides["gate"] = {"min_value": args.gate_min_value}
    spec = load_spec(SPEC_DIR / "flights_delay.yaml", overrides)
    env = dataclasses.replace(current_environment(), feature_processes=args.feature_processes)
    defs = build_definitions([spec], env)
    out: dict[str, float | str] = {"seconds_import_load": time.perf_counter() - t0}
    with dg.DagsterInstance.get() as instance:
        life = Lifecycle(defs, instance, PipelineNames(spec), log_level="CRITICAL")
        t = time.perf_counter()
        first, last = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
        for start, end in (
            (a.isoformat(), b.isoformat()) for a, b in day_ranges(first, last, args.chunk_days)
        ):
            result = life.ingest(start, end)
            if not result.success:
                raise SystemExit(f"ingest {start}..{end} failed (run {result.run_id})")
            del result  # its captured outputs (the chunk's tables), before the next run or training
        out["seconds_ingest"] = time.perf_counter() - t
        if args.mode == "full":
            t = time.perf_counter()
            train = life.train(reason="benchmark")
            if not train.success:
                raise SystemExit(f"training failed or was rejected (run {train.run_id})")
            out["seconds_train_evaluate_gate"] = time.perf_counter() - t
            t = time.perf_counter()
            tick = life.tick_deploy_sensor()
            champion = env.mlflow().version_by_alias(spec.model_name, "champion")
            if not tick.run_ids or champion is None:
                raise SystemExit("no champion deployed")
            out["seconds_deploy"] = time.perf_counter() - t
            report = train.output_for_node(f"{spec.name}__evaluation_report")
            out["holdout_roc_auc"] = report["metrics"]["challenger"]["roc_auc"]
            out["champion_version"] = str(champion.version)
    out["seconds_total"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
