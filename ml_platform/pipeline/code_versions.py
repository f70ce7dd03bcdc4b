"""Code versions of a pipeline's assets, derived from what decides their output: the spec sections an
asset reads and the source of the modules that compute it. Dagster compares an asset's code version
with the one its latest materialization recorded and shows "code version changed" staleness.

Computed when definitions are built (a few small files hashed), never at import."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterable, Sequence

import dagster as dg

from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.models import PipelineSpec

#: per asset stage: (spec sections it reads, modules whose source computes it); the spec's own
#: source kind and feature builder (plugins included) are added by :func:`plugin_modules`
STAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "raw": (
        ("source", "partitioning", "main_table", "auxiliary_tables"),
        ("ml_platform.pipeline.assets.ingestion", "ml_platform.sources.base"),
    ),
    "cleaned": (
        ("main_table", "auxiliary_tables", "target"),
        ("ml_platform.pipeline.assets.cleaning", "ml_platform.ml.cleaning"),
    ),
    "quarantine": (
        ("main_table", "auxiliary_tables", "target"),
        ("ml_platform.pipeline.assets.cleaning", "ml_platform.ml.cleaning"),
    ),
    "features": (
        ("features", "target", "main_table", "auxiliary_tables"),
        ("ml_platform.pipeline.assets.features", "ml_platform.ml.features"),
    ),
    "model": (
        ("estimator", "training", "features", "target", "task"),
        ("ml_platform.pipeline.assets.training", "ml_platform.ml.model_factory", "ml_platform.ml.windows"),
    ),
    "evaluation_report": (
        ("evaluation", "gate", "features", "target", "task"),
        (
            "ml_platform.pipeline.assets.evaluation",
            "ml_platform.ml.metrics",
            "ml_platform.ml.plots",
            "ml_platform.ml.plot_data",
            "ml_platform.ml.gate",
        ),
    ),
    "deployment": (("gate", "evaluation", "task"), ("ml_platform.pipeline.assets.deployment",)),
}


def plugin_modules(spec: PipelineSpec, stage: str) -> tuple[str, ...]:
    """The modules of the spec's source kind (raw) or feature builder (features), wherever they are
    registered from; none for other stages or an unknown name (spec validation reports that)."""
    try:
        if stage == "raw":
            from ml_platform.sources.base import source_class

            return (source_class(spec.source).__module__,)
        if stage == "features":
            from ml_platform.ml.features import builder_for

            builder = builder_for(spec)
            return tuple(dict.fromkeys(f.__module__ for f in (builder.pandas, builder.spark) if f))
    except ValueError:
        return ()
    return ()


def spec_hash(spec: PipelineSpec, sections: Iterable[str] | None = None) -> str:
    """12 hex digits of the spec (or of the named sections), independent of key order."""
    dumped = spec.model_dump(mode="json")
    chosen = dumped if sections is None else {s: dumped.get(s) for s in sections}
    return hashlib.sha256(json.dumps(chosen, sort_keys=True, default=str).encode()).hexdigest()[:12]


def source_hash(modules: Sequence[str]) -> str:
    """12 hex digits of the modules' source files (a module that does not exist counts as empty)."""
    digest = hashlib.sha256()
    for name in modules:
        found = importlib.util.find_spec(name)
        origin = found.origin if found is not None else None
        digest.update(name.encode())
        if origin and origin.endswith(".py"):
            with open(origin, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:12]


def stage_of(pipeline: PipelineNames, key: dg.AssetKey) -> str:
    """``raw_flights`` → ``raw``; ``model`` → ``model``."""
    name = key.path[-1]
    return next((s for s in STAGES if name == s or name.startswith(f"{s}_")), name)


def asset_code_version(pipeline: PipelineNames, key: dg.AssetKey) -> str | None:
    """``spec-<hash>.code-<hash>`` for a known stage, else None."""
    stage = STAGES.get(stage_of(pipeline, key))
    if stage is None:
        return None
    sections, modules = stage
    modules = (*modules, *plugin_modules(pipeline.spec, stage_of(pipeline, key)))
    return f"spec-{spec_hash(pipeline.spec, sections)}.code-{source_hash(modules)}"


def with_code_versions(
    pipeline: PipelineNames, assets: Sequence[dg.AssetsDefinition]
) -> list[dg.AssetsDefinition]:
    """The same assets, each spec carrying its derived code version."""

    def versioned(spec: dg.AssetSpec) -> dg.AssetSpec:
        version = asset_code_version(pipeline, spec.key)
        return spec if version is None else spec.replace_attributes(code_version=version)

    return [a.map_asset_specs(versioned) for a in assets]
