"""The evaluation report's content, Dagster-free: every candidate's scores on the holdout, metrics
with bootstrap CIs, per-slice and (multiclass) per-class metrics, and the report as Markdown."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.ml.metrics import baseline_scores, bootstrap_ci, point_metrics, slice_metrics
from ml_platform.ml.metrics_multiclass import per_class
from ml_platform.ml.model_card import embedded_images, metrics_table, per_class_table
from ml_platform.ml.model_factory import spec_scores
from ml_platform.specs.models import PipelineSpec

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
