"""Pipeline specs: YAML files validated into :class:`PipelineSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ml_platform.specs.models import PipelineSpec

SPEC_DIR = Path(__file__).parent


class SpecError(ValueError):
    """A spec file that does not validate; the message names the file and each bad field."""


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_spec(data: Mapping[str, Any], origin: str = "<dict>") -> PipelineSpec:
    """Validate a spec mapping; errors list every bad field as ``origin: a.b.c: message``."""
    try:
        return PipelineSpec.model_validate(dict(data))
    except ValidationError as exc:
        lines = [
            f"{origin}: {'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise SpecError("invalid pipeline spec\n" + "\n".join(lines)) from None


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None) -> PipelineSpec:
    """Read and validate one spec file, with optional nested overrides (tests, demos)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{path}: cannot read spec: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a spec must be a YAML mapping, got {type(raw).__name__}")
    return parse_spec(_merge(raw, overrides or {}), origin=str(path))


def bundled_specs() -> list[PipelineSpec]:
    """Every spec shipped in ``ml_platform/specs``."""
    return [load_spec(p) for p in sorted(SPEC_DIR.glob("*.yaml"))]


SPEC_DIR_VAR = "ML_PLATFORM_SPEC_DIR"


def configured_specs(environ: Mapping[str, str] | None = None) -> list[PipelineSpec]:
    """The specs Dagster loads: every ``*.yaml`` in ``ML_PLATFORM_SPEC_DIR`` if set (e.g. a short
    spec for UI tests), else the bundled ones. Read when definitions load, never at import."""
    import os

    directory = (os.environ if environ is None else environ).get(SPEC_DIR_VAR)
    if not directory:
        return bundled_specs()
    paths = sorted(Path(directory).glob("*.yaml"))
    if not paths:
        raise SpecError(f"{SPEC_DIR_VAR}={directory}: no *.yaml spec files there")
    return [load_spec(p) for p in paths]


__all__ = ["PipelineSpec", "SpecError", "bundled_specs", "configured_specs", "load_spec", "parse_spec"]
