"""Progress of long work in the Dagster run log: partitions done / total, elapsed time, rows/s."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def chunked(items: Sequence[T], steps: int = 10) -> Iterator[Sequence[T]]:
    """``items`` in about ``steps`` consecutive chunks (one chunk for short ranges)."""
    size = max(1, math.ceil(len(items) / steps))
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Progress:
    """Logs one line per step to ``log`` (a Dagster run logger, or anything with ``.info``)."""

    def __init__(self, log: Any, what: str, total: int, unit: str = "partitions") -> None:
        self.log, self.what, self.total, self.unit = log, what, total, unit
        self.done = 0
        self.rows = 0
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def line(self) -> str:
        elapsed = self.elapsed
        rate = self.rows / elapsed if elapsed > 0 else 0.0
        share = self.done / self.total if self.total else 1.0
        return (
            f"{self.what}: {self.done}/{self.total} {self.unit} ({share:.0%}), {self.rows:,} rows, "
            f"{elapsed:.1f} s elapsed, {rate:,.0f} rows/s"
        )

    def advance(self, units: int, rows: int) -> None:
        self.done += units
        self.rows += rows
        self.log.info(self.line())
