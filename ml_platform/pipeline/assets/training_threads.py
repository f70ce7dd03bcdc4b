"""What the model step does beside its fit and its MLflow logging, in threads: MLflow opened (and a
killed run's leftovers recovered) while the model fits, the drift reference built while the model is
logged. Each waits mostly on C code (OpenMP, Arrow, SQLite) with the GIL released."""

import contextlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.storage import PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.drift import build_profile, per_day_sample
from ml_platform.ml.model_factory import spec_scores, top_score
from ml_platform.pipeline.recovery import recover_training_leftovers
from ml_platform.specs.models import PipelineSpec

#: the drift reference is built beside the MLflow logging when the training window's model columns
#: take at most this much memory (a second copy of the window is read for it meanwhile)
CONCURRENT_REFERENCE_BYTES = 512 * 2**20


def drift_reference(
    spec: PipelineSpec,
    features: PartitionedParquet,
    days: list[str],
    taken: tuple[float, int] | None,
    model: Any,
) -> dict[str, Any]:
    """The model's drift reference: a profile of its training window (features by day, and its
    scores on a seeded sample of each day's rows)."""
    cols = spec.features.model_columns
    window = features.read(days, columns=[*cols, PARTITION_COLUMN], where_present=None, sample=taken)
    drift = spec.monitoring.drift
    window_days = window[PARTITION_COLUMN].to_numpy()
    scored = per_day_sample(window_days, drift.score_rows_per_day, seed=spec.training.sample_seed)
    return build_profile(
        window,
        spec.features.numeric,
        spec.features.categorical,
        window_days,
        # multiclass: the top class's probability
        scores=top_score(spec_scores(spec, model, window[cols].iloc[scored])),
        bins=drift.bins,
        max_categories=drift.max_categories,
        score_rows=scored,
    )


def prepare_registry(mlflow: MlflowRegistry, experiment: str, model: str, instance: Any) -> list[str]:
    """MLflow warmed up for logging, then what a killed training run left behind recovered (notes)."""
    mlflow.warm_up(experiment)
    return recover_training_leftovers(mlflow, experiment, model, instance)


@contextlib.contextmanager
def beside(concurrent: bool, fn: Any, *args: Any) -> Iterator[Future[Any]]:
    """``fn(*args)`` in a thread while the block runs (``concurrent``), else now; the block's error
    waits for the thread to end, so nothing of the step outlives it."""
    if not concurrent:
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        yield done
        return
    with ThreadPoolExecutor(1, thread_name_prefix="drift-reference") as pool:
        yield pool.submit(fn, *args)
