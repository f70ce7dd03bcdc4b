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

    def class_path(self, task: str) -> str:
        """The import path of the class for ``task``."""
        path = self.classification if task == "classification" else self.regression
        if path is None:
            raise ValueError(f"estimator kind '{self.name}' has no {task} estimator")
        return path

    def estimator_class(self, task: str) -> Any:
        module, _, attr = self.class_path(task).rpartition(".")
        return getattr(importlib.import_module(module), attr)


def register_estimator(kind: EstimatorKind) -> EstimatorKind:
    from ml_platform.registry import ESTIMATORS

    ESTIMATORS.add(kind.name, kind, origin=__name__)
    return kind


@dataclass(frozen=True)
class ResolvedEstimator:
    """The class a spec's ``estimator`` names for a task, and how its inputs are prepared."""

    cls: Any
    native_categorical: bool
    label: str

    @property
    def reserved(self) -> tuple[str, ...]:
        """Parameters the platform sets itself (so a spec may not)."""
        return ("categorical_features",) if self.native_categorical else ()


def import_class(path: str, where: str = "estimator.class") -> Any:
    """The object at import path ``package.module.Name``; a clear error naming ``where`` otherwise."""
    module, _, attr = path.rpartition(".")
    if not module:
        raise ValueError(f"{where}: '{path}' is not an import path like sklearn.linear_model.Ridge")
    try:
        found = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise ValueError(f"{where}: cannot import module '{module}' ({exc})") from None
    except AttributeError:
        raise ValueError(f"{where}: module '{module}' has no '{attr}'") from None
    return found


def resolve_estimator(spec: Any, task: str) -> ResolvedEstimator:
    """The estimator of an :class:`~ml_platform.specs.models.EstimatorSpec` (kind or class path) for
    ``task``; a class must be a scikit-learn-compatible estimator fit for the task."""
    if spec.kind is not None:
        kind = estimator_kind(spec.kind)
        return ResolvedEstimator(kind.estimator_class(task), kind.native_categorical, kind.name)
    cls = import_class(spec.class_path)
    if not isinstance(cls, type) or not all(hasattr(cls, m) for m in ("fit", "predict", "get_params")):
        raise ValueError(
            f"estimator.class: {spec.class_path} is not a scikit-learn-compatible estimator class "
            "(needs fit, predict and get_params)"
        )
    if task == "classification" and not hasattr(cls, "predict_proba"):
        raise ValueError(
            f"estimator.class: {spec.class_path} has no predict_proba, which classification needs"
        )
    return ResolvedEstimator(cls, False, spec.class_path)


def estimator_kind(name: str) -> EstimatorKind:
    from ml_platform.registry import ESTIMATORS

    kind: EstimatorKind = ESTIMATORS.get(name)
    return kind
