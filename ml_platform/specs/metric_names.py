"""Which metric names each task has, and which of them are higher-is-better: one place for the spec's
validation, the deploy gate and monitoring."""

from __future__ import annotations

#: the metrics a holdout report carries per task, as ``PipelineSpec.metric_task`` names the task:
#: ``classification`` is binary (``target.greater_than``/``positive_class``/two ``classes``),
#: ``multiclass`` is ``target.classes`` with three or more classes.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("roc_auc", "log_loss", "brier"),
    "multiclass": ("roc_auc_macro", "log_loss", "accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2"),
}
HIGHER_IS_BETTER = frozenset(
    {"roc_auc", "r2", "precision", "recall", "roc_auc_macro", "accuracy", "f1_macro"}
)
