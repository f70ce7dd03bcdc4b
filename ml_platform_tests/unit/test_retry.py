"""Retry policy (pure): exponential backoff with jitter, transient vs permanent classification."""

from __future__ import annotations

import random

import pytest

from ml_platform.sources.retry import (
    PermanentSourceError,
    RetryPolicy,
    TransientSourceError,
    call_with_retries,
)


def test_backoff_grows_exponentially_is_capped_and_jittered() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_seconds=1.0, max_delay_seconds=5.0, jitter=0.5)
    rng = random.Random(0)
    delays = [[policy.delay(n, rng) for _ in range(200)] for n in range(5)]
    for n, samples in enumerate(delays):
        cap = min(5.0, 2.0**n)
        assert all(cap * 0.5 <= d <= cap for d in samples)
        assert len({round(d, 6) for d in samples}) > 100  # jittered, not a constant
    assert max(delays[4]) <= 5.0


def _flaky(failures: int, exc: Exception):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise exc
        return "ok"

    return fn, calls


def test_transient_faults_are_retried_then_succeed() -> None:
    fn, calls = _flaky(2, ConnectionResetError("reset by peer"))
    slept: list[float] = []
    out = call_with_retries(
        fn,
        policy=RetryPolicy(max_retries=3, base_delay_seconds=0.1, jitter=0.0),
        what="test source, day 2013-01-02",
        classify=lambda e: TransientSourceError,
        sleep=slept.append,
    )
    assert out == "ok" and calls["n"] == 3 and slept == [0.1, 0.2]


def test_transient_faults_give_up_after_max_retries_with_a_clear_message() -> None:
    fn, calls = _flaky(10, TimeoutError("read timed out"))
    with pytest.raises(
        TransientSourceError, match=r"day 2013-01-02: still failing after 4 attempts.*timed out"
    ):
        call_with_retries(
            fn,
            policy=RetryPolicy(max_retries=3, base_delay_seconds=0.0),
            what="test source, day 2013-01-02",
            classify=lambda e: TransientSourceError,
            sleep=lambda s: None,
        )
    assert calls["n"] == 4


def test_permanent_faults_fail_at_once() -> None:
    fn, calls = _flaky(10, ValueError("column 'x' has the wrong type"))
    with pytest.raises(PermanentSourceError, match="day 2013-01-02: permanent failure, not retried: column"):
        call_with_retries(
            fn,
            policy=RetryPolicy(max_retries=3),
            what="test source, day 2013-01-02",
            classify=lambda e: PermanentSourceError,
            sleep=lambda s: pytest.fail("must not sleep"),
        )
    assert calls["n"] == 1


def test_unclassified_errors_propagate_unchanged() -> None:
    fn, _ = _flaky(1, KeyError("bug"))
    with pytest.raises(KeyError):
        call_with_retries(fn, policy=RetryPolicy(), what="x", classify=lambda e: None, sleep=lambda s: None)
