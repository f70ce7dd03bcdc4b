"""Spec models of what the model learns: the target, the features and the estimator."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ml_platform.specs.base import _NAME, _check_options, _Strict
from ml_platform.specs.transforms import TimeRef, Transform


class TargetSpec(_Strict):
    """The label: a column, for classification turned into classes by a threshold, a positive class
    (binary) or a class list (multiclass)."""

    column: str
    name: str = Field(default="label", pattern=_NAME)
    greater_than: float | None = Field(
        default=None, description="classification on a number: label = column > greater_than"
    )
    positive_class: str | int | bool | None = Field(
        default=None, description="binary classification: label = (column == positive_class)"
    )
    classes: list[str | int | bool] | None = Field(
        default=None,
        description="two classes: binary, the last one positive; three or more: multiclass, the label "
        "is the index of the row's value in this list and models give one probability per class. A value "
        "not in the list fails the features step naming the column and this field; the column's `isin` "
        "(which must list only these classes) quarantines such rows at cleaning instead",
    )
    missing: Literal["drop"] = Field(
        default="drop",
        description="rows without a target value (e.g. cancelled flights) stay in cleaned data "
        "but are dropped from training and evaluation, and counted",
    )


class FeaturesSpec(_Strict):
    """Which builder makes features and which of its columns the model sees."""

    builder: str = Field(description="a registered feature builder (built-in or from a plugin)")
    categorical: list[str] = Field(default_factory=list)
    numeric: list[str] = Field(default_factory=list)
    slice_columns: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    engine: Literal["pandas", "spark"] | None = Field(
        default=None, description="feature engine; default: the environment's (pandas locally)"
    )
    transforms: list[Transform] = Field(
        default_factory=list, description="builder 'transforms': declarative features, in order"
    )
    prediction_time: TimeRef | None = Field(
        default=None, description="when a row is predicted; lags, windows and as-of joins end before it"
    )
    known_after: list[str] = Field(
        default_factory=list,
        description="main columns known only after prediction time (only windows read them)",
    )

    @property
    def model_columns(self) -> list[str]:
        return [*self.categorical, *self.numeric]

    @model_validator(mode="after")
    def _known_builder(self) -> FeaturesSpec:
        from ml_platform.registry import FEATURE_BUILDERS

        builder = FEATURE_BUILDERS.get(self.builder)
        if builder.options is not None:
            _check_options(builder.options, self.options, "options")
        if self.transforms and self.builder != "transforms":
            raise ValueError(f"transforms are run by builder 'transforms', not '{self.builder}'")
        return self


class EstimatorSpec(_Strict):
    """A registered estimator ``kind`` or any scikit-learn-compatible ``class`` by import path."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: str | None = Field(default=None, description="a registered estimator kind (built-in or plugin)")
    class_path: str | None = Field(
        default=None,
        alias="class",
        description="import path of a scikit-learn-compatible class, e.g. "
        "``sklearn.linear_model.LogisticRegression``",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of the class")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str | None) -> str | None:
        from ml_platform.registry import ESTIMATORS

        if kind is not None:
            ESTIMATORS.get(kind)
        return kind

    @model_validator(mode="after")
    def _one_of(self) -> EstimatorSpec:
        if (self.kind is None) == (self.class_path is None):
            raise ValueError("estimator needs exactly one of kind (registered) or class (an import path)")
        return self

    @property
    def label(self) -> str:
        """How reports name it: the kind, or the class's import path."""
        return self.kind or str(self.class_path)
