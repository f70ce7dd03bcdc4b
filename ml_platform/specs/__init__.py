"""Pipeline specs: YAML files validated into :class:`PipelineSpec`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ml_platform.specs.models import PipelineSpec


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
        lines = [_error_line(origin, err) for err in exc.errors()]
        raise SpecError("invalid pipeline spec\n" + "\n".join(lines)) from None


def _error_line(origin: str, err: Any) -> str:
    """``origin: a.b.c: message``; a whole-spec check names its field in the message itself."""
    message = str(err["msg"]).removeprefix("Value error, ")
    where = ".".join(str(p) for p in err["loc"])
    return f"{origin}: {where}: {message}" if where else f"{origin}: {message}"


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


def spec_dirs() -> list[Path]:
    """Directories of specs that installed dataset plugins ship (entry point group ``ml_platform.specs``,
    each a directory path); the core ships none."""
    from ml_platform.registry import SPECS

    return [Path(directory) for _, directory in SPECS.items()]


def bundled_specs() -> list[PipelineSpec]:
    """Every spec the installed dataset plugins ship (e.g. ``flights_delay``)."""
    return [load_spec(p) for d in spec_dirs() for p in sorted(d.glob("*.yaml"))]


def spec_path(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """The file of the spec called ``name``: ``<name>.yaml`` in ``ML_PLATFORM_SPEC_DIR`` (if set), else
    in an installed plugin's spec directory."""
    import os

    configured = (os.environ if environ is None else environ).get(SPEC_DIR_VAR)
    directories = [Path(configured)] if configured else spec_dirs()
    for directory in directories:
        if (directory / f"{name}.yaml").exists():
            return directory / f"{name}.yaml"
    known = sorted(p.stem for d in directories for p in d.glob("*.yaml"))
    where = f"{SPEC_DIR_VAR}={configured}" if configured else "the installed plugins"
    raise SpecError(
        f"no spec named '{name}' in {where} (known: {', '.join(known) or 'none'}); pass a path to a .yaml file"
    )


def resolve_spec(name_or_path: str, overrides: Mapping[str, Any] | None = None) -> PipelineSpec:
    """A spec by file path (``*.yaml``/``*.yml`` or an existing file) or by name (in
    ``ML_PLATFORM_SPEC_DIR`` if set, else in the installed plugins)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise SpecError(f"{path}: no such spec file")
        return load_spec(path, overrides)
    return load_spec(spec_path(name_or_path), overrides)


SPEC_DIR_VAR = "ML_PLATFORM_SPEC_DIR"


def configured_specs(environ: Mapping[str, str] | None = None) -> list[PipelineSpec]:
    """The specs Dagster loads: every ``*.yaml`` in ``ML_PLATFORM_SPEC_DIR`` if set (e.g. a short
    spec for UI tests), else the bundled ones. Read when definitions load, never at import."""
    import os

    directory = (os.environ if environ is None else environ).get(SPEC_DIR_VAR)
    if not directory:
        specs = bundled_specs()
        if not specs:
            raise SpecError(
                f"no pipeline specs: set {SPEC_DIR_VAR} to a directory of *.yaml specs, "
                "or install a dataset plugin that ships some (see docs/extending.md)"
            )
        return specs
    paths = sorted(Path(directory).glob("*.yaml"))
    if not paths:
        raise SpecError(f"{SPEC_DIR_VAR}={directory}: no *.yaml spec files there")
    return [load_spec(p) for p in paths]


def selected_specs(names: Sequence[str] | None) -> list[PipelineSpec]:
    """The specs an operator command works on: those named (names or paths), else all configured."""
    return [resolve_spec(n) for n in names] if names else configured_specs()


__all__ = [
    "selected_specs",
    "PipelineSpec",
    "SpecError",
    "bundled_specs",
    "configured_specs",
    "load_spec",
    "parse_spec",
    "resolve_spec",
    "spec_path",
]
