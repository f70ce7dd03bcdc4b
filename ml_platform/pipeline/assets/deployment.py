"""Deployment: make a gate-approved version the champion through the resumable deploy state machine
(:mod:`ml_platform.deploys.flow`): re-check against the champion live now, export, smoke-test, move
``previous_champion`` and ``champion``, record the move. The registry alias is the single source of
truth; every materialization states which version is live."""

from collections.abc import Iterator
from typing import Any, Literal

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.deploys import history as hist
from ml_platform.deploys.flow import Deployer, DeployOutcome, DeployRequest, SmokeFailed
from ml_platform.deploys.recheck import recheck
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.export import LocalExportTarget
from ml_platform.io.storage import PartitionedParquet
from ml_platform.pipeline.assets.common import lazy_partitions_in
from ml_platform.pipeline.names import DEPLOY_CONCURRENCY_TAG, PipelineNames


class DeployConfig(dg.Config):
    """Which version to deploy (default: the current ``challenger``); ``kind: rollback`` skips the
    gate re-check (the target was champion before) but not the smoke test."""

    version: str | None = None
    kind: Literal["deploy", "rollback"] = "deploy"
    reason: str = ""
    by: str = ""


def smoke_test(loaded: Any, sample: pd.DataFrame, task: str) -> str:
    """Raise if the served model cannot score the sample sensibly; else say what passed."""
    out = np.asarray(loaded.predict(sample), dtype=float)
    if out.shape[0] != len(sample):
        raise ValueError(f"smoke test: {out.shape[0]} predictions for {len(sample)} rows")
    if not np.isfinite(out).all():
        raise ValueError("smoke test: non-finite predictions")
    if task == "classification" and ((out < 0) | (out > 1)).any():
        raise ValueError("smoke test: probabilities outside [0, 1]")
    return f"{len(sample)} rows scored, finite" + (" and in [0, 1]" if task == "classification" else "")


def live_metadata(mlflow: MlflowRegistry, name: str, outcome: DeployOutcome) -> dict[str, Any]:
    """What every deployment materialization states: the live version and the alias history."""
    metadata: dict[str, Any] = {
        "status": outcome.status,
        "champion_version": outcome.champion or "none",
        "previous_champion": outcome.previous or "none",
        "export_path": outcome.export_path or "none",
        "requested_version": outcome.target,
        "champion_moved": outcome.status in ("deployed", "rolled_back"),
    }
    url = mlflow.version_url(name, outcome.champion) if outcome.champion else None
    if url:
        metadata["mlflow_model_version"] = dg.MetadataValue.url(url)
    if outcome.notes or outcome.reasons:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {n}" for n in outcome.notes + outcome.reasons))
    metadata["champion_history"] = dg.MetadataValue.md(hist.markdown_table(hist.history(mlflow, name)))
    return metadata


def interrupted(mlflow: MlflowRegistry, name: str, version: str, exc: Exception) -> str:
    """One clear message for a deploy stopped by an error (registry down or locked, lock timeout)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    try:
        live = mlflow.version_by_alias(name, "champion")
        state = f"champion is v{live.version}" if live is not None else "no champion"
    except Exception:  # noqa: BLE001 - the registry may be the thing that failed
        state = "champion unknown (registry unreadable)"
    return (
        f"deploying {name} v{version} stopped before it finished: {type(exc).__name__}: {first}. "
        f"Nothing was half-moved ({state}); the next deploy completes or rolls back the recorded intent."
    )


def deployment_asset(pipeline: PipelineNames) -> dg.AssetsDefinition:
    spec = pipeline.spec
    name = spec.model_name

    @dg.asset(
        key=pipeline.deployment_key,
        ins={
            "evaluation_report": dg.AssetIn(pipeline.report_key),
            "features": lazy_partitions_in(pipeline.features_key),
        },
        io_manager_key="json_io_manager",
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"mlflow"},
        output_required=False,  # a challenger rejected by the gate is not deployed, and that is no error
        op_tags={DEPLOY_CONCURRENCY_TAG: name},
        description=f"The live model: alias `champion` of registered model `{name}` (previous one kept "
        "as `previous_champion`), re-checked against the champion live at deploy time, exported and "
        "smoke-tested before the alias moves; resumable after a crash; every move in the history.",
    )
    def _deployment(
        context: dg.AssetExecutionContext,
        config: DeployConfig,
        mlflow: MlflowRegistry,
        export_target: LocalExportTarget,
        evaluation_report: dict[str, Any],
        features: PartitionedParquet,
    ) -> Iterator[dg.Output[dict[str, Any]]]:
        version = config.version
        if version is None:
            challenger = mlflow.version_by_alias(name, "challenger")
            if challenger is None:
                raise dg.Failure(f"no version of '{name}' has alias 'challenger'")
            version = str(challenger.version)
        mv = mlflow.model_version(name, version)
        if config.kind == "deploy" and mv.tags.get("deploy_gate") == "rejected" and config.version is None:
            context.log.warning(
                f"not deploying {name} v{version}: the deploy gate rejected it "
                f"({mv.tags.get('deploy_gate_reasons', '')}); the champion stays"
            )
            return
        if config.kind == "deploy" and mv.tags.get("deploy_gate") != "passed":
            raise dg.Failure(
                f"{name} v{version} has not passed the deploy gate "
                f"(deploy_gate={mv.tags.get('deploy_gate', 'missing')}); refusing to deploy"
            )
        sample = pd.DataFrame(evaluation_report["smoke_sample"])[spec.features.model_columns]
        deployer = Deployer(
            mlflow,
            export_target,
            name,
            lambda loaded: smoke_test(loaded, sample, spec.task),
            context.log.info,
        )
        keys = list(pipeline.partitions_def.get_partition_keys())
        request = DeployRequest(
            target=version,
            kind=config.kind,
            reason=config.reason or f"{config.kind} of v{version}",
            by=config.by or f"dagster run {context.run.run_id[:8]} ({context.run.job_name})",
            run_id=context.run.run_id,
        )
        try:
            outcome = deployer.run(
                request,
                lambda champ: recheck(
                    spec,
                    mlflow,
                    version,
                    champ,
                    evaluation_report,
                    lambda ks: features.read(ks, where_present=spec.target.name),
                    keys,
                ),
            )
        except SmokeFailed as exc:
            raise dg.Failure(str(exc), metadata=live_metadata(mlflow, name, exc.outcome)) from exc
        except Exception as exc:
            raise dg.Failure(interrupted(mlflow, name, version, exc)) from exc
        for note in outcome.notes:
            context.log.info(note)
        yield dg.Output(
            {
                "model_name": name,
                "version": outcome.champion,
                "requested_version": version,
                "previous": outcome.previous,
                "export_path": outcome.export_path,
                "status": outcome.status,
                "history_seq": (outcome.entry or {}).get("seq"),
            },
            metadata=live_metadata(mlflow, name, outcome),
        )

    return _deployment
