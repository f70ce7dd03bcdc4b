"""Deployment: move alias ``champion`` to a gate-approved version, export it, smoke-test it, and
roll back if the smoke test fails. The registry alias is the single source of truth."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.export import LocalExportTarget
from ml_platform.pipeline.names import DEPLOY_CONCURRENCY_TAG, PipelineNames


class DeployConfig(dg.Config):
    """Which version to deploy; default: the current ``challenger``."""

    version: str | None = None


def smoke_test(loaded: Any, sample: pd.DataFrame, task: str) -> None:
    """Raise if the served model cannot score the sample sensibly."""
    out = np.asarray(loaded.predict(sample), dtype=float)
    if out.shape[0] != len(sample):
        raise ValueError(f"smoke test: {out.shape[0]} predictions for {len(sample)} rows")
    if not np.isfinite(out).all():
        raise ValueError("smoke test: non-finite predictions")
    if task == "classification" and ((out < 0) | (out > 1)).any():
        raise ValueError("smoke test: probabilities outside [0, 1]")


def deployment_asset(pipeline: PipelineNames) -> dg.AssetsDefinition:
    spec = pipeline.spec
    name = spec.model_name

    @dg.asset(
        key=pipeline.deployment_key,
        ins={"evaluation_report": dg.AssetIn(pipeline.report_key)},
        io_manager_key="json_io_manager",
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"mlflow"},
        output_required=False,  # a challenger rejected by the gate is not deployed, and that is no error
        op_tags={DEPLOY_CONCURRENCY_TAG: name},
        description=f"The live model: alias `champion` of registered model `{name}` (previous one kept "
        "as `previous_champion`), exported and smoke-tested; rolled back on failure.",
    )
    def _deployment(
        context: dg.AssetExecutionContext,
        config: DeployConfig,
        mlflow: MlflowRegistry,
        export_target: LocalExportTarget,
        evaluation_report: dict[str, Any],
    ) -> Iterator[dg.Output[dict[str, Any]]]:
        version = config.version
        if version is None:
            challenger = mlflow.version_by_alias(name, "challenger")
            if challenger is None:
                raise dg.Failure(f"no version of '{name}' has alias 'challenger'")
            version = str(challenger.version)
        mv = mlflow.model_version(name, version)
        if mv.tags.get("deploy_gate") == "rejected" and config.version is None:
            context.log.warning(
                f"not deploying {name} v{version}: the deploy gate rejected it "
                f"({mv.tags.get('deploy_gate_reasons', '')}); the champion stays"
            )
            return
        if mv.tags.get("deploy_gate") != "passed":
            raise dg.Failure(
                f"{name} v{version} has not passed the deploy gate "
                f"(deploy_gate={mv.tags.get('deploy_gate', 'missing')}); refusing to deploy"
            )
        current = mlflow.version_by_alias(name, "champion")
        if current is not None and str(current.version) == version:
            context.log.info(f"{name} v{version} is already champion: nothing to do")
            yield dg.Output({"model_name": name, "version": version, "status": "already_champion"})
            return
        previous = str(current.version) if current is not None else None
        before = mlflow.version_by_alias(name, "previous_champion")
        mlflow.set_alias(name, "champion", version)
        if previous:
            mlflow.set_alias(name, "previous_champion", previous)
        sample = pd.DataFrame(evaluation_report["smoke_sample"])[spec.features.model_columns]
        try:
            exported = export_target.export(mlflow, name, version)
            smoke_test(mlflow.load_pyfunc(f"models:/{name}@champion"), sample, spec.task)
        except Exception as exc:
            if previous:
                mlflow.set_alias(name, "champion", previous)
                export_target.point_current(name, previous)
            else:
                mlflow.delete_alias(name, "champion")
                export_target.clear_current(name)
            if before is not None:
                mlflow.set_alias(name, "previous_champion", str(before.version))
            elif previous:
                mlflow.delete_alias(name, "previous_champion")
            mlflow.tag_version(
                name, version, {"validation_status": "smoke_failed", "smoke_error": str(exc)[:500]}
            )
            raise dg.Failure(
                f"deploying {name} v{version} failed its smoke test and was rolled back "
                f"(champion: {previous or 'none'}): {exc}"
            ) from exc
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        deployed_tags = {
            "validation_status": "deployed",
            "deployed_at": now,
            "deployed_by_run": context.run.run_id,
        }
        back_link = mlflow.dagster_run_url(context.run.run_id)
        if back_link:
            deployed_tags["deployed_by_run_url"] = back_link
        mlflow.tag_version(name, version, deployed_tags)
        metadata: dict[str, Any] = {
            "champion_version": version,
            "previous_champion": previous or "none",
            "export_path": exported,
        }
        url = mlflow.version_url(name, version)
        if url:
            metadata["mlflow_model_version"] = dg.MetadataValue.url(url)
        yield dg.Output(
            {
                "model_name": name,
                "version": version,
                "previous": previous,
                "deployed_at": now,
                "export_path": exported,
                "status": "deployed",
            },
            metadata=metadata,
        )

    return _deployment
