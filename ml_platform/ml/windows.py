"""Time-based training/holdout windows over daily partition keys (never a random split)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Windows:
    train: list[str]
    holdout: list[str]

    @property
    def train_range(self) -> str:
        return f"{self.train[0]}..{self.train[-1]}"

    @property
    def holdout_range(self) -> str:
        return f"{self.holdout[0]}..{self.holdout[-1]}"


def split_windows(
    partition_keys: list[str], window: int, holdout: int, as_of: dt.date | None = None
) -> Windows:
    """Holdout = the ``holdout`` keys ending at ``as_of`` (default: the last key); train = the
    ``window`` keys right before it. Keys are ISO dates, so sorting them sorts time."""
    keys = sorted(partition_keys)
    end = len(keys) if as_of is None else sum(1 for k in keys if k <= as_of.isoformat())
    if end == 0:
        raise ValueError(f"no partition on or before as_of={as_of}")
    holdout_keys = keys[max(0, end - holdout) : end]
    train_keys = keys[max(0, end - holdout - window) : max(0, end - holdout)]
    if len(holdout_keys) < holdout or len(train_keys) < window:
        raise ValueError(
            f"need {window} training + {holdout} holdout partitions up to {keys[end - 1]}, "
            f"only {end} partitions exist from {keys[0]}"
        )
    return Windows(train=train_keys, holdout=holdout_keys)
