"""Estimator kinds a spec's ``estimator.kind`` names: an sklearn-compatible class per task plus how
its inputs are prepared. Built-ins live in this package's modules; plugins register through the
entry point group ``ml_platform.estimators`` (an :class:`EstimatorKind`)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class EstimatorKind:
    """``classification`` / ``regression``: import paths of the estimator classes (resolved only
    when a model is built, so specs validate without importing sklearn). ``native_categorical``:
    the estimator takes ordinal-encoded categoricals as ``categorical_features`` (gradient boosting);
    otherwise categoricals are one-hot encoded and numerics imputed and scaled."""

    name: str
    classification: str | None = None
    regression: str | None = None
    native_categorical: bool = False
    description: str = ""

    def estimator_class(self, task: str) -> Any:
        path = self.classification if task == "classification" else self.regression
        if path is None:
            raise ValueError(f"estimator kind '{self.name}' has no {task} estimator")
        module, _, attr = path.rpartition(".")
        return getattr(importlib.import_module(module), attr)


def register_estimator(kind: EstimatorKind) -> EstimatorKind:
    from ml_platform.registry import ESTIMATORS

    ESTIMATORS.add(kind.name, kind, origin=__name__)
    return kind


def estimator_kind(name: str) -> EstimatorKind:
    from ml_platform.registry import ESTIMATORS

    kind: EstimatorKind = ESTIMATORS.get(name)
    return kind
