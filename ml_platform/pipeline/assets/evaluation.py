"""The evaluation report: challenger, champion and a naive baseline on the same time-based holdout."""

import json
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.storage import PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.evaluation_report import build_report, report_markdown, score_candidates
from ml_platform.ml.gate import decide
from ml_platform.ml.memory import spare_collector
from ml_platform.ml.metrics import tidy
from ml_platform.ml.monitoring import daily_reference
from ml_platform.ml.plots import evaluation_plots
from ml_platform.pipeline.assets.common import lazy_partitions_in
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.metric_names import HIGHER_IS_BETTER

PLOTS_DIR = "evaluation/plots"


def evaluation_asset(pipeline: PipelineNames) -> dg.AssetsDefinition:
    spec = pipeline.spec

    @dg.asset(
        key=pipeline.report_key,
        ins={
            "model": dg.AssetIn(pipeline.model_key),
            "features": lazy_partitions_in(pipeline.features_key),
        },
        io_manager_key="json_io_manager",
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"mlflow"},
        description="Challenger vs current champion vs naive baseline on the model's own time-based "
        "holdout: metrics with bootstrap CIs, per-slice metrics and plots ("
        + (
            "confusion matrix, per-class metrics, one-vs-rest ROC, slices"
            if spec.metric_task == "multiclass"
            else "ROC, precision-recall, calibration, confusion matrix, slices"
        )
        + "; also MLflow run artifacts). Gated by `deploy_gate`.",
    )
    @spare_collector
    def _report(
        context: dg.AssetExecutionContext,
        mlflow: MlflowRegistry,
        model: dict[str, Any],
        features: PartitionedParquet,
    ) -> dg.Output[dict[str, Any]]:
        holdout_keys = model["holdout_partitions"]
        absent = sorted(set(holdout_keys) - set(features.keys()))
        if absent:
            raise dg.Failure(f"holdout partitions not materialized: {absent[:5]}")
        holdout = features.read(holdout_keys, where_present=spec.target.name)
        missing = sorted(set(holdout_keys) - set(holdout[PARTITION_COLUMN].unique()))
        if missing:
            raise dg.Failure(f"holdout partitions without labelled rows: {missing[:5]}")
        challenger = mlflow.load_sklearn(model["model_uri"])
        champ_version = mlflow.version_by_alias(spec.model_name, "champion")
        champion = None
        if champ_version is not None and str(champ_version.version) != str(model["version"]):
            champion = mlflow.load_sklearn(f"models:/{spec.model_name}/{champ_version.version}")
        context.log.info(
            f"evaluation: scoring {', '.join(['challenger', *(['champion'] if champion else [])])} "
            f"on {len(holdout):,} holdout rows"
        )
        train_labels = None
        if spec.class_names is not None:  # the multiclass baseline: the training window's class shares
            label = spec.target.name
            train_labels = features.read(model["train_partitions"], columns=[label], where_present=label)[
                label
            ].to_numpy(dtype=float)
        scores = score_candidates(
            spec, holdout, challenger, champion, model["train_label_mean"], train_labels
        )
        report = build_report(spec, holdout, scores, context.log.info)
        # the same pure decision the deploy_gate check records: the report states it next to the numbers
        decision = decide(spec.gate, report["metrics"]["challenger"], report["metrics"].get("champion"))
        report["gate"] = {"decision": decision.label, "reasons": decision.reasons}
        report.update(
            {
                "pipeline": pipeline.name,
                "model_name": spec.model_name,
                "challenger_version": str(model["version"]),
                "challenger_run_id": model["run_id"],
                "champion_version": str(champ_version.version)
                if champ_version is not None and champion is not None
                else None,
                "holdout_window": f"{holdout_keys[0]}..{holdout_keys[-1]}",
                "train_window": f"{model['train_partitions'][0]}..{model['train_partitions'][-1]}",
                "train_rows": model.get("train_rows"),
                "params": model.get("params"),
                "experiment_id": model["experiment_id"],
                "training_dagster_run_id": model.get("dagster_run_id"),
                "gate_metric": spec.gate.metric,
                "smoke_sample": holdout[spec.features.model_columns]
                .head(spec.evaluation.smoke_sample_rows)
                .to_dict(orient="records"),
            }
        )
        y = holdout[spec.target.name].to_numpy(dtype=float)
        context.log.info(f"evaluation: drawing plots ({len(scores)} candidates)")
        images = evaluation_plots(
            spec.metric_task,
            y,
            scores,
            spec.evaluation.decision_threshold,
            report["slices"],
            spec.gate.metric,
            spec.class_names,
            report.get("per_class"),
        )
        report["plots"] = [f"{PLOTS_DIR}/{name}" for name in images]
        markdown = report_markdown(spec, report, images)
        flat = {
            f"holdout_{cand}_{k}": tidy(v)
            for cand, ms in report["metrics"].items()
            for k, v in ms.items()
            if np.isfinite(v)
        }
        perf = spec.monitoring.performance
        live_metric = perf.metric or spec.gate.metric
        daily = daily_reference(  # what a live day is judged against (see performance_decay)
            spec.metric_task,
            holdout[PARTITION_COLUMN].astype(str).to_numpy(),
            y,
            scores["challenger"],
            live_metric,
            live_metric in HIGHER_IS_BETTER,
            perf.min_rows,
        )
        report["holdout_daily"] = daily
        mlflow.log_to_run(
            model["run_id"],
            {k.replace("_challenger", ""): v for k, v in flat.items()}
            | {k: tidy(v) for k, v in daily.items()},
            {
                "evaluation/report.md": report_markdown(spec, report),
                "evaluation/metrics.json": pd.Series(flat).to_json(),
                **(
                    {"evaluation/per_class.json": json.dumps(report["per_class"])}
                    if report.get("per_class")
                    else {}
                ),
            },
        )
        mlflow.log_files(model["run_id"], {f"{PLOTS_DIR}/{n}": data for n, data in images.items()})
        context.log.info(f"logged {len(images)} plots to MLflow run {model['run_id']} under {PLOTS_DIR}/")
        metric = spec.gate.metric
        metadata: dict[str, Any] = {
            "challenger_version": report["challenger_version"],
            "champion_version": report["champion_version"] or "none",
            f"challenger_{metric}": tidy(report["metrics"]["challenger"][metric]),
            f"baseline_{metric}": tidy(report["metrics"]["baseline"][metric]),
            "report": dg.MetadataValue.md(markdown),
            "deploy_gate": decision.label,
            "deploy_gate_reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
        }
        if "champion" in report["metrics"]:
            metadata[f"champion_{metric}"] = tidy(report["metrics"]["champion"][metric])
        for name, url in mlflow.links(
            model["experiment_id"], model["run_id"], spec.model_name, str(model["version"])
        ).items():
            metadata[name] = dg.MetadataValue.url(url)
        return dg.Output(report, metadata=metadata)

    return _report
