"""The drift reference built beside the MLflow logging: in another thread while the block runs,
its result the same, and a failing block waits for the thread instead of leaving it running."""

import threading
import time

import pytest

from ml_platform.pipeline.assets.training_threads import beside


def _work(log: list[str], seconds: float) -> str:
    time.sleep(seconds)
    log.append(f"done in {threading.current_thread().name}")
    return "profile"


def test_concurrent_work_runs_in_its_own_thread_while_the_block_runs() -> None:
    log: list[str] = []
    with beside(True, _work, log, 0.2) as reference:
        log.append("block")  # before the work is done: the block did not wait for it
        assert reference.result() == "profile"
    assert log[0] == "block"
    assert log[1].startswith("done in drift-reference")


def test_without_concurrency_the_work_is_done_first_in_this_thread() -> None:
    log: list[str] = []
    with beside(False, _work, log, 0.0) as reference:
        log.append("block")
        assert reference.result() == "profile"
    assert log == [f"done in {threading.current_thread().name}", "block"]


def test_a_failing_block_waits_for_the_work_to_end() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError, match="registry down"), beside(True, _work, log, 0.3):
        raise RuntimeError("registry down")
    assert log and log[0].startswith("done in drift-reference")  # ended before the error surfaced
