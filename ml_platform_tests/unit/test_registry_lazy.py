"""Registries import what a name needs: the built-in module named after it and the plugins (real
entry points of a dist-info on sys.path), the other built-ins only when asked for everything; a
plugin reusing a built-in's name still fails. The source kinds in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ml_platform.registry import Registry, UnknownEntryError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def things(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A package ``mlp_things`` with built-ins ``alpha`` and ``beta`` (each a module named after
    it), a plugin ``gamma`` and a plugin that takes the name ``beta`` (group ``ml_platform.things``
    and ``ml_platform.things_clash``)."""
    pkg = tmp_path / "mlp_things"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("REGISTRY = None\n")
    for name in ("alpha", "beta"):
        (pkg / f"{name}.py").write_text(
            f"import mlp_things\nmlp_things.REGISTRY.add({name!r}, {name!r}.upper(), origin=__name__)\n"
        )
    (tmp_path / "mlp_plugin.py").write_text("GAMMA = 'gamma plugin'\nBETA = 'beta plugin'\n")
    dist = tmp_path / "mlp_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mlp-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [ml_platform.things]
            gamma = mlp_plugin:GAMMA
            [ml_platform.things_clash]
            beta = mlp_plugin:BETA
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in [m for m in sys.modules if m.startswith("mlp_")]:
        monkeypatch.delitem(sys.modules, mod)
    import mlp_things  # type: ignore[import-not-found]

    def registry(group: str) -> Registry:
        reg: Registry = Registry("thing", group, "mlp_things")
        mlp_things.REGISTRY = reg
        return reg

    return registry


def test_a_name_imports_its_own_module_and_the_plugins_only(things) -> None:  # type: ignore[no-untyped-def]
    reg = things("things")
    assert reg.get("alpha") == "ALPHA"
    assert "mlp_things.alpha" in sys.modules and "mlp_things.beta" not in sys.modules
    assert reg.get("gamma") == "gamma plugin"  # a plugin: found without the other built-ins
    assert "mlp_things.beta" not in sys.modules
    assert reg.names() == ["alpha", "beta", "gamma"]  # everything when asked for everything
    with pytest.raises(UnknownEntryError, match=r"unknown thing 'delta' \(known: alpha, beta, gamma"):
        reg.get("delta")


def test_a_plugin_taking_a_builtin_name_still_fails(things) -> None:  # type: ignore[no-untyped-def]
    reg = things("things_clash")
    with pytest.raises(
        ValueError, match="thing 'beta' is registered twice: by mlp_things.beta and by entry point"
    ):
        reg.get("beta")


def test_the_flights_spec_loads_without_the_s3_source_and_boto3() -> None:
    code = (
        "import sys\n"
        "from ml_platform.definitions import defs\n"
        "defs()\n"
        "from ml_platform.registry import SOURCES\n"
        "print(sorted(m for m in ('ml_platform.sources.s3', 'dagster_aws', 'boto3') if m in sys.modules))\n"
        "print(SOURCES.names())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    ).stdout.splitlines()
    assert out[0] == "[]", out
    assert out[1] == "['http', 'landing_dir', 'nycflights13', 's3', 'sql']"
