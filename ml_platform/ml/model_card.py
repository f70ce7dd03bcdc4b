"""Markdown for people: the metrics table of an evaluation report and a per-version model card."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from ml_platform.specs.models import PipelineSpec

CANDIDATES = ("challenger", "champion", "baseline")


def metrics_table(report: Mapping[str, Any]) -> list[str]:
    """One row per metric, one column per candidate; models show their bootstrap 95% interval."""
    names = [n for n in CANDIDATES if n in report["metrics"]]
    keys = [k for k in report["metrics"]["challenger"] if k != "n"]
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k in keys:
        cells = []
        for n in names:
            value = report["metrics"][n].get(k)
            ci = report["ci"].get(n, {}).get(k)
            cells.append(
                "" if value is None else f"{value:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")
            )
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return lines


def per_class_table(report: Mapping[str, Any]) -> list[str]:
    """Multiclass: precision, recall, F1 and one-vs-rest AUC per class, challenger (and champion F1);
    empty for other tasks."""
    rows = report.get("per_class", {}).get("challenger")
    if not rows:
        return []
    champion = {r["class"]: r for r in report["per_class"].get("champion", [])}

    def cell(value: Any) -> str:
        return "" if value is None else f"{value:.4f}"

    lines = [
        "| class | support | predicted | precision | recall | F1 | one-vs-rest AUC |"
        + (" champion F1 |" if champion else ""),
        "|---|---|---|---|---|---|---|" + ("---|" if champion else ""),
    ]
    for r in rows:
        line = (
            f"| {r['class']} | {r['support']} | {r['predicted']} | {cell(r['precision'])} | "
            f"{cell(r['recall'])} | {cell(r['f1'])} | {cell(r['roc_auc'])} |"
        )
        if champion:
            line += f" {cell(champion.get(r['class'], {}).get('f1'))} |"
        lines.append(line)
    return lines


def embedded_images(images: Mapping[str, bytes]) -> list[str]:
    """Markdown images with ``data:`` URIs (the Dagster UI renders them inline)."""
    lines: list[str] = []
    for name, data in images.items():
        title = name.rsplit(".", 1)[0].replace("_", " ")
        lines += [f"![{title}](data:image/png;base64,{base64.b64encode(data).decode('ascii')})", ""]
    return lines


def _label_rule(spec: PipelineSpec) -> str:
    target = spec.target
    if target.greater_than is not None:
        return f" (1 when > {target.greater_than})"
    if target.positive_class is not None:
        return f" (1 when == {target.positive_class!r})"
    if target.classes is not None:
        return f" (classes {target.classes})"
    return ""


def model_card(
    spec: PipelineSpec,
    report: Mapping[str, Any],
    passed: bool,
    reasons: Sequence[str],
    links: Mapping[str, str] | None = None,
    plots: Sequence[str] = (),
    plot_links: Mapping[str, str] | None = None,
) -> str:
    """The model card of one registered version: what it predicts, from which data, how well, and
    whether the deploy gate let it through (with every reason)."""
    feats = spec.features
    gate = spec.gate
    bound = f">= {gate.min_value}" if gate.min_value is not None else f"<= {gate.max_value}"
    lines = [
        f"# {report['model_name']} v{report['challenger_version']}",
        "",
        spec.description.strip() if spec.description else f"{spec.task} model for `{spec.target.name}`.",
        "",
        "## Data",
        f"- Pipeline `{spec.name}`, source `{spec.source.kind}`, {spec.partitioning.granularity} partitions",
        f"- Training window: {report.get('train_window', '?')} ({report.get('train_rows', '?')} labelled rows)",
        f"- Holdout (time-based, after training): {report['holdout_window']} "
        f"({int(report['metrics']['challenger']['n'])} labelled rows)",
        f"- Target: `{spec.target.name}` from `{spec.target.column}`{_label_rule(spec)}",
        "",
        "## Model",
        f"- Estimator: `{spec.estimator.label}`, params `{report.get('params', spec.estimator.params)}`",
        f"- Categorical features ({len(feats.categorical)}): "
        + ", ".join(f"`{c}`" for c in feats.categorical),
        f"- Numeric features ({len(feats.numeric)}): " + ", ".join(f"`{c}`" for c in feats.numeric),
        "",
        "## Holdout metrics (95% bootstrap intervals)",
        "",
        *metrics_table(report),
        *(
            ["", "## Per class (holdout, most probable class)", "", *per_class_table(report)]
            if report.get("per_class")
            else []
        ),
        "",
        f"Champion at evaluation: {('v' + str(report['champion_version'])) if report.get('champion_version') else 'none'}",
        "",
        f"## Deploy gate: **{'passed' if passed else 'rejected'}**",
        f"Rule: {gate.metric} {bound} and, if a champion exists, better by at least {gate.min_improvement}.",
        "",
        *(f"- {r}" for r in reasons),
    ]
    if plots:
        lines += [
            "",
            "## Plots (run artifacts)",
            "",
            *(f"- {md_link(f'`{p}`', (plot_links or {}).get(p))}" for p in plots),
        ]
    if links:
        lines += ["", "## Links", "", *(f"- {md_link(k, v)}" for k, v in links.items())]
    return "\n".join(lines) + "\n"


def md_link(text: str, url: str | None) -> str:
    """``[text](url)``, or the text alone without a URL (no dead links)."""
    return f"[{text}]({url})" if url else text


def run_note(title: str, links: Mapping[str, str | None], facts: Sequence[str] = ()) -> str:
    """Markdown for an MLflow run or version description: a title, facts, and clickable links
    (MLflow renders descriptions as Markdown; tags are plain text)."""
    lines = [f"**{title}**", "", *(f"- {f}" for f in facts)]
    lines += [f"- {md_link(k, v)}" for k, v in links.items() if v]
    return "\n".join(lines) + "\n"


def model_description(spec: PipelineSpec) -> str:
    """The registered model's description: what it predicts, who owns it, how versions go live."""
    what = spec.description.strip() if spec.description else f"{spec.task} model for `{spec.target.name}`."
    return "\n".join(
        [
            what,
            "",
            f"- Task: {spec.task}; target `{spec.target.name}` (from `{spec.target.column}`)",
            f"- Pipeline spec: `{spec.name}` ({spec.estimator.label}, gate on {spec.gate.metric})",
            f"- Owners: {', '.join(spec.owners) or 'none'}",
            "- Alias `champion` is the live version, `challenger` the latest trained; every version's "
            "description is its model card with the deploy gate's decision.",
        ]
    )


def model_tags(spec: PipelineSpec, spec_hash: str) -> dict[str, str]:
    """Registered-model tags: task, target, owners, pipeline spec and its content hash."""
    return {
        "task": spec.task,
        "target": spec.target.name,
        "owners": ",".join(spec.owners),
        "pipeline_spec": spec.name,
        "spec_hash": spec_hash,
        "estimator": spec.estimator.label,
    }
