"""Retries for source reads: transient faults back off exponentially with jitter; permanent faults
fail at once with a message naming the source, the day and the cause."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class SourceError(RuntimeError):
    """A delivery that cannot be read; the message names the source, table and day."""


class PermanentSourceError(SourceError):
    """Retrying will not help (4xx, authentication, schema, unreadable file)."""


class TransientSourceError(SourceError):
    """Retrying may help (5xx, timeout, connection reset, database disconnect)."""


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` extra attempts; delay ``min(max_delay, base * 2**n)`` scaled by a random
    factor in ``[1 - jitter, 1]`` (full jitter at ``jitter=1``)."""

    max_retries: int = 3
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 30.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        capped = min(self.max_delay_seconds, self.base_delay_seconds * (2**attempt))
        factor = 1 - self.jitter * (rng or random).random()
        return max(0.0, capped * factor)


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    what: str,
    classify: Callable[[Exception], type[SourceError] | None],
    log: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn``; retry what ``classify`` calls transient, re-raise the rest as permanent.

    ``classify`` maps an exception to :class:`TransientSourceError`, :class:`PermanentSourceError`
    or ``None`` (not a source fault: re-raised unchanged). ``what`` names source, table and day.
    """
    attempt = 0
    while True:
        try:
            return fn()
        except SourceError as exc:
            kind: type[SourceError] | None = type(exc)
            error: Exception = exc
        except Exception as exc:  # noqa: BLE001 - classified below
            kind, error = classify(exc), exc
            if kind is None:
                raise
        if kind is not TransientSourceError:
            raise PermanentSourceError(f"{what}: permanent failure, not retried: {error}") from error
        if attempt >= policy.max_retries:
            raise TransientSourceError(
                f"{what}: still failing after {attempt + 1} attempts ({policy.max_retries} retries): {error}"
            ) from error
        wait = policy.delay(attempt)
        if log:
            log(
                f"{what}: transient failure ({error}); retry {attempt + 1}/{policy.max_retries} in {wait:.2f}s"
            )
        sleep(wait)
        attempt += 1
