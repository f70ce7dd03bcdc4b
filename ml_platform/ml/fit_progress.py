"""Progress of an estimator's fit as log lines: HistGradientBoosting's own ``verbose`` report (one
line per boosting iteration, printed to stdout) captured and passed on every N iterations with the
elapsed time. Estimators without such a report get a start and an end line from the caller.

stdout is redirected for the whole process during the fit: fine in a Dagster step (its own
process under the multiprocess executor, steps one after another in process)."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

ITERATION = re.compile(r"^\[(\d+)/(\d+)\]\s*(.*)$")
QUIET = ("Time spent", "Fitting gradient boosted rounds")  # sklearn's timing breakdown, its header


class _Lines(io.TextIOBase):
    """A text stream that hands each complete line to ``on_line``."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if line.strip():
                self.on_line(line.strip())
        return len(text)


def iteration_filter(log: Callable[[str], None], every: int, started: float) -> Callable[[str], None]:
    """Passes on the first, every ``every``-th and the last boosting iteration, binning and the final
    summary, each with the elapsed time."""

    def on_line(line: str) -> None:
        elapsed = time.perf_counter() - started
        found = ITERATION.match(line)
        if found is None:
            if not line.startswith(QUIET):
                log(f"fit: {line} ({elapsed:.1f} s elapsed)")
            return
        i, total, rest = int(found[1]), int(found[2]), found[3]
        if i == 1 or i % every == 0 or i == total:
            log(f"fit: iteration {i}/{total} ({elapsed:.1f} s elapsed): {rest}")

    return on_line


@contextlib.contextmanager
def fit_progress(estimator: Any, log: Callable[[str], None], updates: int = 10) -> Iterator[bool]:
    """Within the block, a HistGradientBoosting ``estimator`` reports about ``updates`` progress
    lines to ``log``; yields whether it will (its ``verbose`` is restored afterwards, so the fitted
    model's parameters are unchanged)."""
    name = type(estimator).__name__
    if not name.startswith("HistGradientBoosting"):
        yield False
        return
    before = estimator.get_params()["verbose"]
    every = max(1, int(estimator.get_params()["max_iter"]) // max(updates, 1))
    sink = _Lines(iteration_filter(log, every, time.perf_counter()))
    estimator.set_params(verbose=2)  # 2: one line per iteration; 1 only the summary
    try:
        with contextlib.redirect_stdout(sink):
            yield True
    finally:
        estimator.set_params(verbose=before)
