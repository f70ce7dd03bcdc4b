"""Writes ``docs/specs.md``, the spec reference, from the pydantic models themselves: every field
with its type, default, description and an example (the value one of the shipped example specs
uses, else the field's declared example, else its default). ``python -m devtools.spec_reference``
rewrites the file; a test checks the committed one equals what this generates."""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ml_platform.specs import models

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "specs.md"
EXAMPLE_SPECS = ("datasets/seattle_weather/seattle_weather.yaml", "docs/examples/flights_transforms.yaml")

# Examples for fields neither example spec sets (kept here so every field shows one).
EXAMPLES: dict[tuple[str, str], Any] = {
    ("TimeSpec", "parts"): ["year", "month", "day"],
    ("PartitioningSpec", "date_columns"): ["year", "month", "day"],
    ("PartitioningSpec", "missing_days"): "allow",
    ("PartitioningSpec", "empty_days"): "allow",
    ("TargetSpec", "greater_than"): 15,
    ("TargetSpec", "classes"): ["sun", "rain", "drizzle", "snow", "fog"],
    ("TargetSpec", "missing"): "drop",
    ("EstimatorSpec", "kind"): "hist_gradient_boosting",
    ("FeaturesSpec", "categorical"): ["carrier", "origin"],
    ("FeaturesSpec", "slice_columns"): ["origin"],
    ("FeaturesSpec", "options"): {"lead_minutes": 0},
    ("FeaturesSpec", "engine"): "spark",
    ("TableSpec", "partitioned"): False,
    ("ColumnSpec", "nullable"): True,
    ("ColumnSpec", "le"): 50,
    ("ColumnSpec", "isin"): [0, 1],
    ("GateSpec", "max_value"): 0.45,
    ("TrainingSpec", "as_of"): "2013-12-31",
    ("PipelineSpec", "auxiliary_tables"): [{"name": "planes", "table": "planes", "partitioned": False}],
    ("TrainingSpec", "sample_fraction"): 0.25,
    ("TrainingSpec", "sample_rows"): 2_000_000,
    ("TrainingSpec", "sample_seed"): 7,
    ("MonitoringSpec", "retrain_on_drift"): False,
    ("MonitoringSpec", "retrain_on_decay"): False,
    ("MonitoringSpec", "retrain_cooldown_partitions"): 3,
    ("PerformanceSpec", "metric"): "roc_auc",
}
# Descriptions of fields whose model declares none (a field renamed or removed fails generation).
DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("PipelineSpec", "name"): "pipeline name: prefixes every asset key, the registered model's name",
    ("PipelineSpec", "description"): "what the model predicts (shown in the model card)",
    ("PipelineSpec", "owners"): "Dagster asset owners (``team:…`` or e-mail addresses)",
    ("PipelineSpec", "task"): "classification (a binary label) or regression",
    ("PipelineSpec", "source"): "where raw tables come from",
    ("PipelineSpec", "partitioning"): "the days and how a row's day is found",
    ("PipelineSpec", "main_table"): "the fact table: one feature row (and label) per row",
    ("PipelineSpec", "auxiliary_tables"): "lookup tables a feature builder joins",
    ("PipelineSpec", "target"): "the label",
    ("PipelineSpec", "features"): "the model's inputs",
    ("PipelineSpec", "estimator"): "the model class and its params",
    ("PipelineSpec", "training"): "the time split",
    ("PipelineSpec", "evaluation"): "holdout scoring",
    ("PipelineSpec", "gate"): "when a challenger may replace the champion",
    ("PipelineSpec", "schedules"): "cron schedules of ingestion and retraining",
    ("PipelineSpec", "checks"): "blocking data checks on each cleaned partition",
    ("PipelineSpec", "sensors"): "how often the retrain and deploy sensors run",
    ("ChecksSpec", "history_partitions"): "previous published partitions the thresholds are taken from",
    ("ChecksSpec", "max_quarantine_share"): "a partition fails above this share of quarantined rows",
    ("ChecksSpec", "volume"): "delivered rows against the median of the previous partitions",
    ("ChecksSpec", "max_missing_target_share"): "a partition fails above this share of rows without a target",
    ("SensorsSpec", "retrain_interval_seconds"): "seconds between two evaluations of the retrain sensor",
    ("SensorsSpec", "deploy_interval_seconds"): "seconds between two evaluations of the deploy sensor",
    ("PipelineSpec", "monitoring"): "batch scoring, live performance, drift and check-triggered retraining",
    ("TrainingSpec", "sample_seed"): "seed of the training sample (with sample_fraction or sample_rows)",
    ("MonitoringSpec", "drift"): "when a feature or the scores drift",
    ("MonitoringSpec", "performance"): "when live performance decays",
    ("MonitoringSpec", "retrain_on_drift"): "a failed drift check requests a retrain",
    ("MonitoringSpec", "retrain_on_decay"): "a failed performance check requests a retrain",
    ("DriftSpec", "psi_threshold"): "a day's PSI against the training window must reach this",
    ("DriftSpec", "natural_margin"): "and exceed the largest daily PSI inside the window times this",
    ("DriftSpec", "p_value"): "and the KS / chi-squared test must reject sameness at this level",
    ("DriftSpec", "bins"): "quantile bins of numeric features for the PSI",
    ("DriftSpec", "max_categories"): "categories kept per categorical feature (the rest pooled)",
    ("PerformanceSpec", "labels_known_share"): "a day counts once this share of its rows has a label",
    ("PerformanceSpec", "tolerance"): "how far below the deployment holdout metric a day may fall",
    ("PerformanceSpec", "bootstrap_samples"): "resamples of a day's interval",
    ("PerformanceSpec", "min_rows"): "days with fewer labelled rows are not judged",
    ("SourceSpec", "options"): "the kind's options (validated by the kind; see docs/sources.md)",
    ("SourceSpec", "retry"): "retries of transient faults",
    ("SourceSpec", "sensor"): "the new-data sensor's polling",
    ("RetrySpec", "max_retries"): "extra attempts after the first",
    ("RetrySpec", "base_delay_seconds"): "first backoff delay",
    ("RetrySpec", "max_delay_seconds"): "cap of one delay",
    ("RetrySpec", "jitter"): "random share taken off each delay (0: none, 1: full jitter)",
    ("NewDataSensorSpec", "minimum_interval_seconds"): "seconds between two evaluations",
    ("NewDataSensorSpec", "max_runs_per_tick"): "run requests one evaluation may make",
    ("NewDataSensorSpec", "max_days_per_run"): "consecutive pending days one ingest run (a range) takes",
    ("PartitioningSpec", "start"): "first day",
    ("TableSpec", "name"): "the table's name in asset keys and feature builders",
    ("TableSpec", "partitioned"): "delivered per day (true) or whole (a lookup)",
    ("TableSpec", "columns"): "column name → its type and checks; other delivered columns are dropped",
    ("TableSpec", "primary_key"): "columns unique per row (a second row with other values is quarantined)",
    ("ColumnSpec", "nullable"): "missing values allowed",
    ("ColumnSpec", "ge"): "lowest allowed value",
    ("ColumnSpec", "le"): "highest allowed value",
    ("TargetSpec", "column"): "the main table's column the label comes from",
    ("TargetSpec", "name"): "the label's name in the features table",
    ("FeaturesSpec", "categorical"): "columns encoded as categories",
    ("FeaturesSpec", "numeric"): "columns used as numbers",
    ("FeaturesSpec", "slice_columns"): "columns the evaluation breaks metrics down by",
    ("FeaturesSpec", "options"): "the builder's options (validated by the builder)",
    ("TrainingSpec", "window_partitions"): "training days, right before the holdout",
    ("TrainingSpec", "holdout_partitions"): "holdout days, ending at as_of",
    ("EvaluationSpec", "decision_threshold"): "score above which a row counts as positive (precision/recall)",
    ("EvaluationSpec", "bootstrap_samples"): "resamples for the 95% intervals (0: none)",
    ("EvaluationSpec", "smoke_sample_rows"): "holdout rows the deployed model must score before it serves",
    ("GateSpec", "metric"): "the holdout metric the gate compares",
    ("GateSpec", "min_value"): "higher-is-better metrics: the bar",
    ("GateSpec", "max_value"): "lower-is-better metrics: the bar",
    ("GateSpec", "min_improvement"): "how much a challenger must beat the champion by, on the same holdout",
    ("ScheduleSpec", "ingest_cron"): "when the daily ingest runs",
    ("ScheduleSpec", "retrain_cron"): "when the weekly retrain runs",
}
# A model's own fields with a more telling example spot than its first use (e.g. a column with checks).
PATH_OVERRIDES: dict[str, tuple[str, ...]] = {"ColumnSpec": ("main_table", "columns", "precipitation")}


TRANSFORMS_MODULE = "ml_platform.specs.transforms"  # its models: docs/features.md
MODELS: dict[str, type[BaseModel]] = {}


def model_paths() -> dict[str, tuple[str, ...]]:
    """Every spec model reachable from ``PipelineSpec`` → where it first sits in a spec, in order."""
    paths: dict[str, tuple[str, ...]] = {}

    def visit(model: type[BaseModel], path: tuple[str, ...]) -> None:
        if model.__name__ in paths or model.__module__ == TRANSFORMS_MODULE:
            return
        paths[model.__name__] = PATH_OVERRIDES.get(model.__name__, path)
        MODELS[model.__name__] = model
        for field, info in model.model_fields.items():
            for inner in _models_in(info.annotation):
                key = info.alias or field
                visit(
                    inner, (*path, key) if not _is_mapping_of(info.annotation, inner) else (*path, key, "*")
                )

    visit(models.PipelineSpec, ())
    return paths


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _is_mapping_of(annotation: Any, inner: type[BaseModel]) -> bool:
    return typing.get_origin(annotation) is dict and inner in typing.get_args(annotation)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__module__ == TRANSFORMS_MODULE:
            return f"[{annotation.__name__}](features.md)"
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        return f"`{_inline(info.default_factory())}`"  # type: ignore[call-arg]
    if info.default is PydanticUndefined:
        return ""
    if isinstance(info.default, BaseModel):
        return "(its defaults)"
    return f"`{_inline(info.default)}`"


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _inline(value: Any) -> str:
    value = _plain(value)
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False, allow_unicode=True)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _example_specs() -> list[dict[str, Any]]:
    from flights_delay import SPEC_DIR

    files = [REPO / p for p in EXAMPLE_SPECS] + [Path(SPEC_DIR) / "flights_delay.yaml"]
    return [yaml.safe_load(f.read_text()) for f in files]


def _lookup(spec: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = spec
    for part in path:
        if isinstance(node, list):  # a list of tables: the first one
            node = node[0] if node else None
        if part == "*" and isinstance(node, dict) and node:
            node = next(iter(node.values()))
            continue
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _example(
    model: str, name: str, info: FieldInfo, specs: list[dict[str, Any]], paths: dict[str, tuple[str, ...]]
) -> Any:
    key = info.alias or name
    for spec in specs:
        found = _lookup(spec, (*paths[model], key))
        if found is not None and found != {} and found != []:
            return found
    if (model, name) in EXAMPLES:
        return EXAMPLES[(model, name)]
    if not info.is_required() and info.default not in (None, PydanticUndefined):
        return info.default
    raise ValueError(f"{model}.{name}: no example (add one to devtools/spec_reference.py EXAMPLES)")


def _snippet(key: str, value: Any) -> str:
    if isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()):
        value = {k: value[k] for k in list(value)[:3]}  # a long mapping (columns): its first entries
    text = _inline({key: value})
    text = text[1:-1] if text.startswith("{") and text.endswith("}") else text
    return text if len(text) <= 90 else text[:87] + "…"


def render() -> str:
    specs = _example_specs()
    model_paths()
    stale = [
        k for k in [*DESCRIPTIONS, *EXAMPLES] if k[0] not in MODELS or k[1] not in MODELS[k[0]].model_fields
    ]
    if stale:
        raise ValueError(f"descriptions/examples of fields that no longer exist: {stale}")
    lines = [
        "# Spec reference",
        "",
        "<!-- generated by `python -m devtools.spec_reference` from ml_platform/specs/models.py; "
        "do not edit by hand (a test compares) -->",
        "",
        "A pipeline is one YAML file validated into `PipelineSpec`. `ml-platform validate --spec FILE` "
        "checks it (and the cross-field rules: target vs task and schema, time columns, feature names "
        "against what the builder produces, estimator params against the estimator's signature) "
        "before anything runs; every error names the file and the field. Examples are taken from "
        "`datasets/seattle_weather/seattle_weather.yaml` and the flights plugin's spec.",
        "",
    ]
    paths = model_paths()
    for name, path in paths.items():
        model = MODELS[name]
        where = ".".join(path).replace(".*", ".<name>") or "(top level)"
        doc = " ".join((model.__doc__ or "").split())
        lines += [f"## {name}", "", f"At `{where}`. {doc}".rstrip(), ""]
        lines += ["| field | type | default | description | example |", "|---|---|---|---|---|"]
        for field, info in model.model_fields.items():
            key = info.alias or field
            described = info.description or DESCRIPTIONS.get((name, field))
            if not described:
                raise ValueError(f"{name}.{field}: no description (add one to the model or DESCRIPTIONS)")
            description = " ".join(described.split()).replace("|", "\\|")
            example = _snippet(key, _example(name, field, info, specs, paths)).replace("|", "\\|")
            lines.append(
                f"| `{key}` | {_type_name(info.annotation)} | {_default(info)} | {description} | `{example}` |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    OUT.write_text(render())
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
