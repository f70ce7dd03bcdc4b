"""The documented, reproducible training sample for windows larger than memory: the same fraction of
every day's labelled rows (stratified by day), chosen by a generator seeded with the spec's seed and
the day itself, so the same window and seed always give the same rows, in any process."""

from __future__ import annotations

import numpy as np


def day_sample(n_rows: int, fraction: float, seed: int, day: str) -> np.ndarray:
    """Sorted row positions of ``day``'s sample: ``round(fraction * n_rows)`` rows (at least one
    when the day has any), without replacement."""
    if not 0 < fraction <= 1:
        raise ValueError(f"sample fraction must be in (0, 1], got {fraction}")
    if fraction == 1 or n_rows == 0:
        return np.arange(n_rows)
    size = min(n_rows, max(1, round(fraction * n_rows)))
    rng = np.random.default_rng([seed, int(day.replace("-", "")[:8] or 0)])
    return np.sort(rng.choice(n_rows, size=size, replace=False))
