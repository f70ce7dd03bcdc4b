"""Where a ``predictions`` run spends its time: the functions the asset and its IO manager call,
wrapped for the duration of one run (the asset itself is unchanged), their seconds summed."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

#: (module or class, attribute, bucket)
TARGETS = (
    ("ml_platform.io.storage:ParquetIOManager", "load_input", "seconds_load_features"),
    ("ml_platform.pipeline.assets.predictions", "champion_profile", "seconds_champion_profile"),
    ("ml_platform.integrations.mlflow:MlflowRegistry", "load_sklearn", "seconds_load_model"),
    ("ml_platform.pipeline.assets.predictions", "predict_scores", "seconds_predict"),
    ("ml_platform.pipeline.assets.predictions", "predictions_frame", "seconds_predictions_frame"),
    ("ml_platform.pipeline.assets.predictions", "score_summary", "seconds_score_summaries"),
    ("ml_platform.pipeline.assets.predictions", "drift_result", "seconds_drift_check"),
    ("ml_platform.io.storage:ParquetIOManager", "handle_output", "seconds_write_predictions"),
)


def _owner(path: str) -> Any:
    import importlib

    module, _, cls = path.partition(":")
    owner = importlib.import_module(module)
    return getattr(owner, cls) if cls else owner


class Probe:
    """``with Probe() as p: …`` → ``p.seconds[bucket]``; calls nested in another probed call
    (e.g. a write inside ``handle_output``) count in both."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._saved: list[tuple[Any, str, Any]] = []

    def _wrap(self, fn: Callable[..., Any], bucket: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[bucket] += time.perf_counter() - t0

        return timed

    def __enter__(self) -> Probe:
        for path, name, bucket in TARGETS:
            owner = _owner(path)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            self._saved.append((owner, name, original))
            setattr(owner, name, self._wrap(original, bucket))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()
