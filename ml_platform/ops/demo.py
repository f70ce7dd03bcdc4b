"""`make demo`: ingest a year, deploy a first champion, then show the gate rejecting a weakened
challenger while the champion stays. Ends with a human summary."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import dagster as dg

from ml_platform.definitions import build_definitions
from ml_platform.environments import current_environment
from ml_platform.ops.lifecycle import Lifecycle
from ml_platform.ops.status import collect_status, render_text
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs import PipelineSpec, bundled_specs, resolve_spec

# Ordinary run config that cripples the estimator: a few shallow trees barely learn.
WEAK_HYPERPARAMETERS = {"max_iter": 3, "max_depth": 1, "learning_rate": 0.05}
# For other estimators, whichever of these their class takes (few/shallow trees, strong regularization)
WEAK_CANDIDATES = {**WEAK_HYPERPARAMETERS, "n_estimators": 2, "C": 1e-4, "alpha": 1e4}


def weak_hyperparameters(spec: PipelineSpec) -> dict[str, Any]:
    """Crippling params the spec's estimator accepts (empty: the demo skips the rejection step)."""
    import inspect

    from ml_platform.ml.estimators import resolve_estimator

    accepted = inspect.signature(resolve_estimator(spec.estimator, spec.task).cls).parameters
    return {k: v for k, v in WEAK_CANDIDATES.items() if k in accepted}


def short_range_overrides(base_spec: PipelineSpec, start: str | None, end: str | None) -> dict[str, Any]:
    """For a shorter date range: partitions over it, holdout = its last quarter, train = the rest."""
    if not start and not end:
        return {}
    base = base_spec.partitioning
    if base.granularity != "daily":
        raise ValueError(f"demo --start/--end shorten daily specs; '{base_spec.name}' is {base.granularity}")
    first = dt.date.fromisoformat(start) if start else base.start
    last = dt.date.fromisoformat(end) if end else base.end
    days = (last - first).days + 1
    holdout = max(7, days // 4)
    return {
        "partitioning": {"start": first.isoformat(), "end": last.isoformat()},
        "training": {"window_partitions": days - holdout, "holdout_partitions": holdout},
    }


def _step(title: str) -> float:
    print(f"\n--> {title}", flush=True)
    return time.perf_counter()


def default_demo_spec() -> str:
    """The demo's spec when none is named: the first one an installed dataset plugin ships."""
    specs = bundled_specs()
    if not specs:
        raise ValueError("no spec to demo: install a dataset plugin or pass --spec PATH")
    return specs[0].name


def run_demo(
    instance: dg.DagsterInstance,
    start: str | None = None,
    end: str | None = None,
    spec_name: str | None = None,
) -> int:
    began = time.perf_counter()
    env = current_environment()
    name = spec_name or default_demo_spec()
    spec = resolve_spec(name, short_range_overrides(resolve_spec(name), start, end))
    defs = build_definitions([spec], env)
    pipeline = PipelineNames(spec)
    life = Lifecycle(defs, instance, pipeline, log_level="CRITICAL")
    start, end = pipeline.partition_keys[0], pipeline.partition_keys[-1]  # days, hours or weeks

    t = _step(f"ingest + clean + features for {start}..{end} (one single-run backfill)")
    ingest = life.ingest(start, end)
    if not ingest.success:
        print("ingest failed; see the run in the Dagster UI")
        return 1
    print(f"    done in {time.perf_counter() - t:.1f}s (run {ingest.run_id})")
    del ingest  # its captured outputs (the range's tables) are not needed while training

    t = _step("train challenger #1 with the spec's hyperparameters, evaluate, deploy gate")
    first = life.train(reason="demo: first model")
    print(f"    run {first.run_id}: {life.gate_outcome(first)} ({time.perf_counter() - t:.1f}s)")
    tick = life.tick_deploy_sensor()
    print(_sensor_line(tick))

    weak = weak_hyperparameters(spec)
    if weak:
        t = _step(f"train challenger #2 with crippled hyperparameters {weak}")
        second = life.train(weak, reason="demo: deliberately weakened")
        print(f"    run {second.run_id}: {life.gate_outcome(second)} ({time.perf_counter() - t:.1f}s)")
        tick = life.tick_deploy_sensor()
        print(_sensor_line(tick))

    print("\n==== summary ====")
    print(render_text(collect_status([spec], env.mlflow(), instance)))
    print(
        f"\nDemo finished in {time.perf_counter() - began:.0f}s.\n"
        "Open the UIs with `make dev`: Dagster at http://127.0.0.1:3000, MLflow at http://127.0.0.1:5000.\n"
        "`ml-platform status` (or `make status`) prints this summary again."
    )
    return 0


def _sensor_line(tick: Any) -> str:
    """What one tick of the deploy sensor did: its runs, and its reason when it launched none."""
    reason = f"; {tick.skip_reason}" if tick.skip_reason else ""
    return f"    deploy sensor: {len(tick.run_ids)} deploy run(s){reason}"
