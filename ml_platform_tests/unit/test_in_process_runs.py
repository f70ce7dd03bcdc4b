"""In-process runs (ops.lifecycle.execute_in_process, as the demo, the bench and the lifecycle tests
run them): Dagster keeps a run's outputs for its result, and each step's context holds them in a
reference cycle; the run's cycles are freed at its end, so the outputs go with the result."""

from __future__ import annotations

import gc
import weakref

import dagster as dg

from ml_platform.ops.lifecycle import execute_in_process


class _Output:
    """A step output that can be weakly referenced."""


def _job(made: list[weakref.ref]) -> dg.JobDefinition:
    @dg.asset
    def big() -> _Output:
        output = _Output()
        made.append(weakref.ref(output))
        return output

    @dg.asset
    def after(big: _Output) -> int:
        return 1

    return dg.Definitions(assets=[big, after]).resolve_implicit_global_asset_job_def()


def test_a_runs_outputs_go_with_its_result_without_a_full_collection() -> None:
    made: list[weakref.ref] = []
    job = _job(made)
    with dg.instance_for_test() as instance:
        gc.collect()
        gc.disable()  # as in a long process, where a full collection rarely runs
        try:
            plain = job.execute_in_process(instance=instance)
            assert plain.success
            del plain
            assert made[0]() is not None  # Dagster's own: still held by the steps' cycles
            result = execute_in_process(job, instance=instance)
            assert result.success and result.output_for_node("after") == 1
            assert made[1]() is not None  # the result still gives the outputs
            del result
            assert made[1]() is None  # freed with the result
        finally:
            gc.enable()
