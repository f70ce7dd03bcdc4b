"""The evaluation report: challenger, champion and a naive baseline on the same time-based holdout."""

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.io.storage import PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.gate import decide
from ml_platform.ml.metrics import baseline_scores, bootstrap_ci, point_metrics, slice_metrics, tidy
from ml_platform.ml.metrics_multiclass import per_class
from ml_platform.ml.model_card import embedded_images, metrics_table, per_class_table
from ml_platform.ml.model_factory import spec_scores
from ml_platform.ml.monitoring import daily_reference
from ml_platform.ml.plots import evaluation_plots
from ml_platform.pipeline.assets.common import lazy_partitions_in
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.metric_names import HIGHER_IS_BETTER
from ml_platform.specs.models import PipelineSpec

PLOTS_DIR = "evaluation/plots"
SLICE_BOOTSTRAP_SAMPLES = 100  # per-slice intervals for the slice chart (~1 s on a 10k-row holdout)


def score_candidates(
    spec: PipelineSpec,
    holdout: pd.DataFrame,
    challenger: Any,
    champion: Any | None,
    train_label_mean: float,
    train_labels: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Scores of every candidate on the holdout (the champion sees the columns it was trained on).
    The baseline predicts the training base rate, or (multiclass) the training window's class shares
    from ``train_labels``, on every row."""
    cols = spec.features.model_columns
    classes = spec.class_names
    if classes is not None:
        assert train_labels is not None, "a multiclass baseline needs the training labels"
        baseline = baseline_scores("multiclass", train_labels, len(holdout), len(classes))
    else:
        baseline = baseline_scores(spec.task, np.array([train_label_mean]), len(holdout))
    scores = {"challenger": spec_scores(spec, challenger, holdout[cols]), "baseline": baseline}
    if champion is not None:
        champ_cols = list(getattr(champion, "feature_names_in_", cols))
        scores["champion"] = spec_scores(spec, champion, holdout[champ_cols])
    return scores


def bootstrap_logger(log: Callable[[str], None], name: str) -> Callable[[int, int], None]:
    """``evaluation: bootstrap challenger 40/200 resamples (20%), 1.3 s elapsed``."""
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        log(
            f"evaluation: bootstrap {name} {done}/{total} resamples ({done / total:.0%}), {elapsed:.1f} s elapsed"
        )

    return report


def build_report(
    spec: PipelineSpec,
    holdout: pd.DataFrame,
    scores: dict[str, np.ndarray],
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Metrics (with bootstrap CIs for the models) and per-slice metrics for each candidate, and
    (multiclass) per-class metrics of the models; progress of the bootstrap and the slices goes to ``log``."""
    y = holdout[spec.target.name].to_numpy(dtype=float)
    ev = spec.evaluation
    task = spec.metric_task
    say = log or (lambda _line: None)
    report: dict[str, Any] = {"metrics": {}, "ci": {}, "slices": {}}
    classes = spec.class_names
    if classes is not None:
        report["classes"] = classes
        report["per_class"] = {n: per_class(y, s, classes) for n, s in scores.items() if n != "baseline"}
    for name, s in scores.items():
        report["metrics"][name] = point_metrics(task, y, s, ev.decision_threshold)
        if name != "baseline":
            report["ci"][name] = bootstrap_ci(
                task, y, s, ev.bootstrap_samples, progress=bootstrap_logger(say, name)
            )
            say(f"evaluation: {name} metrics per slice of {', '.join(spec.features.slice_columns)}")
            report["slices"][name] = slice_metrics(
                task,
                holdout,
                y,
                s,
                spec.features.slice_columns,
                spec.gate.metric,
                samples=min(ev.bootstrap_samples, SLICE_BOOTSTRAP_SAMPLES),
            ).to_dict(orient="records")
    return report


def report_markdown(
    spec: PipelineSpec, report: dict[str, Any], images: Mapping[str, bytes] | None = None
) -> str:
    """The report as Markdown: metrics table, per-slice table and (optionally) the plots inline."""
    metric = spec.gate.metric
    lines = [
        f"### {spec.name} v{report['challenger_version']} vs "
        + (f"champion v{report['champion_version']}" if report.get("champion_version") else "no champion"),
        f"Holdout {report['holdout_window']} ({int(report['metrics']['challenger']['n'])} labelled rows)",
        "",
        *metrics_table(report),
    ]
    if report.get("per_class"):
        lines += ["", "#### Per class (most probable class)", "", *per_class_table(report)]
    if report.get("gate"):
        gate = report["gate"]
        lines += ["", f"#### Deploy gate: **{gate['decision']}**", "", *(f"- {r}" for r in gate["reasons"])]
    if images:
        lines += ["", "#### Plots", "", *embedded_images(images)]
    lines += [
        "",
        f"#### {metric} per slice",
        "",
        "| slice | value | n | challenger | champion |",
        "|---|---|---|---|---|",
    ]
    champ = {(r["slice"], r["value"]): r[metric] for r in report["slices"].get("champion", [])}
    for row in report["slices"]["challenger"]:
        other = champ.get((row["slice"], row["value"]))
        low, high = row.get("ci_low"), row.get("ci_high")
        interval = f" [{low:.3f}, {high:.3f}]" if low is not None and np.isfinite([low, high]).all() else ""
        lines.append(
            f"| {row['slice']} | {row['value']} | {row['n']} | {row[metric]:.4f}{interval} | "
            + ("" if other is None else f"{other:.4f}")
            + " |"
        )
    return "\n".join(lines)


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
