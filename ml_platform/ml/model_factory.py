"""sklearn Pipelines built from the spec: categorical encoding + the configured estimator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ml_platform.ml.estimators import ResolvedEstimator, resolve_estimator
from ml_platform.ml.memory import release_free_memory

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from ml_platform.specs.models import PipelineSpec


def pipeline_for(spec: PipelineSpec, params: Mapping[str, Any] | None = None) -> Pipeline:
    """The spec's unfitted Pipeline; ``params`` (default: the spec's) are the estimator's."""
    features = spec.features
    chosen = spec.estimator.params if params is None else params
    resolved = resolve_estimator(spec.estimator, spec.task)
    return make_pipeline(resolved, spec.task, features.categorical, features.numeric, chosen)


def make_pipeline(
    kind: str | ResolvedEstimator,
    task: str,
    categorical: list[str],
    numeric: list[str],
    params: Mapping[str, Any],
) -> Pipeline:
    """An unfitted Pipeline for a registered kind (by name) or a resolved estimator; unknown
    hyperparameters fail here with the estimator's own message."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    from ml_platform.specs.models import EstimatorSpec

    resolved = resolve_estimator(EstimatorSpec(kind=kind), task) if isinstance(kind, str) else kind
    estimator_cls = resolved.cls
    if resolved.native_categorical:
        prep = ColumnTransformer(
            [
                (
                    "categorical",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                    ),
                    categorical,
                ),
                ("numeric", "passthrough", numeric),
            ],
            verbose_feature_names_out=False,
        )
        estimator = estimator_cls(categorical_features=list(range(len(categorical))), **params)
    else:
        prep = ColumnTransformer(
            [
                ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                (
                    "numeric",
                    Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]),
                    numeric,
                ),
            ]
        )
        estimator = estimator_cls(**params)
    return Pipeline([("prep", prep), ("model", estimator)])


def fit_lean(model: Pipeline, owned: list[Any], y: Any) -> Pipeline:
    """``model.fit(X, y)`` for the frame ``X`` in ``owned``, which this call takes over (the list is
    emptied; the caller keeps no reference): the steps before the estimator run under pandas
    copy-on-write, so their column selections are views, and the frame is released before the
    estimator fits on the matrix they produced. A plain fit keeps the frame, that matrix and the
    estimator's own validation split alive together (at 30× the flights: ~9 GB). Same model."""
    import pandas as pd

    X = owned.pop()
    with pd.option_context("mode.copy_on_write", True):
        matrix = model[:-1].fit_transform(X, y)
    del X
    release_free_memory()  # the frame freed into Arrow's pool and glibc's heap, not to the OS
    model.steps[-1][1].fit(matrix, y)
    return model


#: Below this many rows, scores are computed on one OpenMP thread. A tree ensemble's predict opens
#: a parallel region per tree, and on a busy machine each region waits until every thread is
#: scheduled: one day of flights (987 rows, 300 trees) took 8–9 s on 2 threads and 0.2–0.6 s on
#: 1 at load 28 on 2 cores (docs/batch_scoring.md). Above it the work per region pays for the threads.
SINGLE_THREAD_ROWS = 20_000


def predict_scores(model: Any, frame: Any, task: str, n_classes: int | None = None) -> np.ndarray:
    """Positive-class probability (binary classification), one probability per class, shape
    (n, ``n_classes``) in ``target.classes`` order (multiclass; a class the training window lacked
    gets probability 0), or the prediction (regression), as floats."""
    with _threads_for(len(frame)):
        if task == "multiclass":
            assert n_classes is not None, "multiclass scores need the number of classes"
            proba = np.asarray(model.predict_proba(frame), dtype=float)
            seen = np.asarray(getattr(model, "classes_", np.arange(proba.shape[1])), dtype=float).astype(int)
            scores = np.zeros((proba.shape[0], n_classes))
            scores[:, seen] = proba
            return scores
        if task == "classification" and hasattr(model, "predict_proba"):
            return np.asarray(model.predict_proba(frame))[:, 1].astype(float)
        out = np.asarray(model.predict(frame))
    if out.ndim == 2:
        out = out[:, -1]
    return out.astype(float)


def _threads_for(rows: int) -> Any:
    """One OpenMP thread for a small batch (see :data:`SINGLE_THREAD_ROWS`), else as configured."""
    import contextlib

    if rows >= SINGLE_THREAD_ROWS:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="openmp")


def spec_scores(spec: PipelineSpec, model: Any, frame: Any) -> np.ndarray:
    """``predict_scores`` for the spec's task (multiclass: one column per ``target.classes``)."""
    classes = spec.class_names
    return predict_scores(model, frame, spec.metric_task, len(classes) if classes else None)


def top_score(scores: np.ndarray) -> np.ndarray:
    """One number per row: the score itself, or (multiclass) the probability of the most probable class."""
    s = np.asarray(scores, dtype=float)
    return s.max(axis=1) if s.ndim == 2 else s
