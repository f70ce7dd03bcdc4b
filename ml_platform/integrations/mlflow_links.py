"""Links into the MLflow UI (classic view) and back to Dagster, for metadata, tags and notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

#: MLflow 3's UI opens in its GenAI view (no model registry in the navigation) unless the page's
#: ``workflowType`` query parameter says otherwise; every link we generate lands in the classic view.
ML_VIEW_QUERY = "workflowType=machine_learning"


class MlflowLinks:
    """UI links of a registry with ``ui_url`` (MLflow) and ``dagster_ui_url``; None without them."""

    if TYPE_CHECKING:
        ui_url: str | None
        dagster_ui_url: str | None

    def ui_link(self, route: str) -> str | None:
        """``<ui>/#/<route>?workflowType=machine_learning`` (the classic view), or None without a UI."""
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/#/{route.lstrip('/')}?{ML_VIEW_QUERY}"

    def run_url(self, experiment_id: str, run_id: str) -> str | None:
        return self.ui_link(f"experiments/{experiment_id}/runs/{run_id}")

    def version_url(self, model: str, version: str) -> str | None:
        return self.ui_link(f"models/{model}/versions/{version}")

    def artifact_url(self, experiment_id: str, run_id: str, path: str) -> str | None:
        """The run page's artifact view opened on ``path`` (e.g. ``evaluation/plots/roc.png``)."""
        return self.ui_link(f"experiments/{experiment_id}/runs/{run_id}/artifacts/{path}")

    def models_url(self) -> str | None:
        """The model registry's list of models."""
        return self.ui_link("models")

    def links(self, experiment_id: str, run_id: str, model: str, version: str) -> dict[str, str]:
        """``mlflow_run`` and ``mlflow_model_version`` UI links (empty without a UI URL)."""
        urls = {
            "mlflow_run": self.run_url(experiment_id, run_id),
            "mlflow_model_version": self.version_url(model, str(version)),
        }
        return {name: url for name, url in urls.items() if url}

    def dagster_run_url(self, run_id: str) -> str | None:
        """The Dagster UI page of a run (the link back from MLflow tags)."""
        return f"{self.dagster_ui_url.rstrip('/')}/runs/{run_id}" if self.dagster_ui_url else None
