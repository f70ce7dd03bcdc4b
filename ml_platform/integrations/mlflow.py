"""MLflow tracking + model registry. The registry's aliases say which model is live."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from ml_platform.faults import fault_point
from ml_platform.integrations.mlflow_links import MlflowLinks
from ml_platform.integrations.mlflow_model import (
    load_pyfunc_checked,
    model_requirements,
    optional_inputs_signature,
    output_classes,
    own_types,
    pinned_requirements_trusted,
    training_dataset,
)
from ml_platform.integrations.skops_import import import_skops_io

#: An experiment of this kind opens on its Runs tab (GenAI experiments open on Traces).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
#: The run tag MLflow renders as the run's Markdown description.
RUN_NOTE_TAG = "mlflow.note.content"


def _not_found(exc: Any) -> bool:
    """An MLflow error meaning "no such model/alias" (as opposed to a database or server failure)."""
    return getattr(exc, "error_code", "") in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


class MlflowRegistry(dg.ConfigurableResource, MlflowLinks):
    """An MLflow tracking server or database, plus its model registry.

    Local default: ``sqlite:///…/mlflow.db`` with artifacts in a local directory. Production: an
    ``http://`` tracking server (artifacts wherever the server puts them, e.g. S3).
    """

    tracking_uri: str
    artifact_root: str | None = None
    ui_url: str | None = None
    dagster_ui_url: str | None = None
    lock_url: str | None = None  # SQLAlchemy URL of the deploy lock table (default: a SQL tracking DB)
    _client: Any = PrivateAttr(default=None)

    # -- plumbing -------------------------------------------------------------------------------
    def client(self) -> Any:
        if self._client is None:
            from mlflow import MlflowClient

            from ml_platform.integrations.mlflow_db import ensure_local_db

            ensure_local_db(self.tracking_uri)
            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client

    @contextlib.contextmanager
    def _fluent(self) -> Iterator[Any]:
        import mlflow

        from ml_platform.integrations.mlflow_db import ensure_local_db

        ensure_local_db(self.tracking_uri)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        yield mlflow

    def fluent(self) -> contextlib.AbstractContextManager[Any]:
        """``mlflow`` with this registry's tracking and registry URIs set (e.g. for ``spark_udf``)."""
        return self._fluent()

    def warm_up(self, experiment: str) -> None:
        """Import what logging a model needs and, for a local database, open the store (made if
        new) and the experiment, e.g. in a thread while a model fits (the fit's work is in C with
        the GIL released). A tracking server is not called: no network waits here. Errors are left
        for the real calls to raise where they happen."""
        try:
            import mlflow.sklearn  # noqa: F401  (mlflow, its sklearn flavor and the store's modules)

            import_skops_io()
            if self.tracking_uri.startswith("sqlite:"):
                self.experiment_id(experiment)
        except Exception:  # noqa: BLE001  the logging that follows meets the same fault and names it
            return

    def experiment_id(self, name: str) -> str:
        client = self.client()
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            for key, value in EXPERIMENT_KIND.items():
                if exp.tags.get(key) != value:
                    client.set_experiment_tag(exp.experiment_id, key, value)
            return str(exp.experiment_id)
        location = None
        if self.artifact_root:
            root = self.artifact_root
            location = (
                Path(root, name).resolve().as_uri() if "://" not in root else f"{root.rstrip('/')}/{name}"
            )
        return str(client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_KIND))

    # -- registry -------------------------------------------------------------------------------
    def version_by_alias(self, model: str, alias: str) -> Any | None:
        """The version ``alias`` points at, or None. A local database not made yet holds no alias:
        answered without importing MLflow or creating the database (a cold build's first checks)."""
        from ml_platform.integrations.mlflow_db import missing_local_db

        if self._client is None and missing_local_db(self.tracking_uri):
            return None
        from mlflow.exceptions import MlflowException

        try:
            return self.client().get_model_version_by_alias(model, alias)
        except MlflowException as exc:
            if _not_found(exc):
                return None
            raise  # a registry that cannot answer is not "no such alias"

    def model_version(self, model: str, version: str) -> Any:
        return self.client().get_model_version(model, str(version))

    def set_alias(self, model: str, alias: str, version: str) -> None:
        self.client().set_registered_model_alias(model, alias, str(version))

    def delete_alias(self, model: str, alias: str) -> None:
        self.client().delete_registered_model_alias(model, alias)

    def model_tags(self, model: str) -> dict[str, str]:
        """Tags of the registered model (``{}`` if it does not exist)."""
        from mlflow.exceptions import MlflowException

        try:
            return dict(self.client().get_registered_model(model).tags)
        except MlflowException as exc:
            if _not_found(exc):
                return {}
            raise

    def set_model_tag(self, model: str, key: str, value: str) -> None:
        self.client().set_registered_model_tag(model, key, value)

    def delete_model_tag(self, model: str, key: str) -> None:
        self.client().delete_registered_model_tag(model, key)

    def deploy_lock_url(self) -> str | None:
        """Where deploys of a model are serialized: ``lock_url``, else the tracking database itself
        when it is SQL (``None`` for a tracking server without a lock URL)."""
        if self.lock_url:
            return self.lock_url
        sql = ("sqlite:", "postgresql", "mysql", "mssql")
        return self.tracking_uri if self.tracking_uri.startswith(sql) else None

    def tag_version(self, model: str, version: str, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self.client().set_model_version_tag(model, str(version), key, str(value))

    def load_sklearn(self, uri: str) -> Any:
        import_skops_io()  # what MLflow imports to load a skops model, without its slow search
        with self._fluent() as mlflow:
            return mlflow.sklearn.load_model(uri)

    def load_pyfunc(self, uri: str) -> Any:
        with self._fluent() as mlflow:
            return load_pyfunc_checked(mlflow, mlflow.artifacts.download_artifacts(artifact_uri=uri))

    def download(self, uri: str, dst: str) -> str:
        with self._fluent() as mlflow:
            return str(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst))

    def load_json(self, run_id: str, artifact_file: str) -> Any | None:
        """A JSON artifact of a run (``None`` if the run has no such file)."""
        import json

        from mlflow.exceptions import MlflowException

        with self._fluent() as mlflow:
            try:
                return json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/{artifact_file}"))
            except (MlflowException, OSError):
                return None

    def run_metrics(self, run_id: str) -> dict[str, float]:
        return dict(self.client().get_run(run_id).data.metrics)

    # -- tracking -------------------------------------------------------------------------------
    def log_trained_model(
        self,
        *,
        experiment: str,
        model_name: str,
        model: Any,
        task: str,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        train_frame: Any,
        target: str,
        input_example: Any,
        classes: list[str] | None = None,
    ) -> dict[str, str]:
        """One run: params, metrics, training data as an ``mlflow.data`` input, the model with
        signature + input example, registered as a new version aliased ``challenger``. Multiclass
        (``classes``, the spec's class names): the pyfunc predicts one probability per class, and the
        MLmodel file's ``metadata.classes`` names its columns in order."""
        with self._fluent() as mlflow:
            exp_id = self.experiment_id(experiment)
            with mlflow.start_run(experiment_id=exp_id, tags=dict(tags)) as run:
                mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
                mlflow.log_metrics(dict(metrics))
                dataset = training_dataset(mlflow, train_frame, target, f"{model_name}_train")
                mlflow.log_input(dataset, context="training")
                predict_fn = "predict_proba" if task == "classification" else "predict"
                output = getattr(model, predict_fn)(input_example)
                with pinned_requirements_trusted():
                    info = mlflow.sklearn.log_model(
                        model,
                        name="model",
                        signature=optional_inputs_signature(dataset.schema, target, input_example, output),
                        input_example=input_example,
                        pip_requirements=model_requirements(),
                        registered_model_name=model_name,
                        pyfunc_predict_fn=predict_fn,
                        serialization_format="skops",
                        skops_trusted_types=own_types(model),
                        metadata={"classes": output_classes(model, classes)} if classes else None,
                    )
                version = str(info.registered_model_version)
                fault_point("train:after_register")
                mlflow.set_tag("dataset_digest", dataset.digest)
        for key, value in tags.items():
            self.client().set_model_version_tag(model_name, version, key, value)
        self.set_alias(model_name, "challenger", version)
        return {
            "run_id": run.info.run_id,
            "experiment_id": exp_id,
            "version": version,
            "model_uri": f"models:/{model_name}/{version}",
            "dataset_digest": dataset.digest,
        }

    def log_to_run(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        texts: Mapping[str, str],
        tags: Mapping[str, str] | None = None,
    ) -> None:
        client = self.client()
        for key, value in metrics.items():
            client.log_metric(run_id, key, float(value))
        for artifact_file, text in texts.items():
            client.log_text(run_id, text, artifact_file)
        for tag, tag_value in (tags or {}).items():
            client.set_tag(run_id, tag, tag_value)

    def log_files(self, run_id: str, files: Mapping[str, bytes]) -> None:
        """Binary artifacts (e.g. PNG plots) by artifact path, e.g. ``evaluation/plots/roc.png``."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="mlp-artifacts-") as tmp:
            for artifact_file, data in files.items():
                path = Path(tmp, artifact_file)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            self.client().log_artifacts(run_id, tmp)

    def describe_version(self, model: str, version: str, description: str) -> None:
        """The version's description (Markdown, shown on its page in the MLflow UI): its model card."""
        self.client().update_model_version(model, str(version), description=description)

    def describe_run(self, run_id: str, markdown: str) -> None:
        """The run's description (Markdown, rendered on the run page, links clickable)."""
        self.client().set_tag(run_id, RUN_NOTE_TAG, markdown)

    def describe_model(self, model: str, description: str, tags: Mapping[str, str]) -> None:
        """The registered model's description (Markdown) and tags (task, owners, spec, ...)."""
        client = self.client()
        client.update_registered_model(model, description=description)
        for key, value in tags.items():
            client.set_registered_model_tag(model, key, str(value))
