"""Settings read when definitions load: the spec directory and the UI link bases (pure: explicit
environ mappings, spec files in tmp_path)."""

from __future__ import annotations

import pytest

from ml_platform.environments import current_environment
from ml_platform.specs import SpecError, bundled_specs, configured_specs
from ml_platform_tests.helpers import SHORT_END, short_flights_spec, write_spec


def test_default_specs_are_the_bundled_ones() -> None:
    assert [s.name for s in configured_specs({})] == [s.name for s in bundled_specs()]


def test_spec_dir_points_definitions_at_other_specs(tmp_path) -> None:
    write_spec(short_flights_spec(), tmp_path / "specs")
    (spec,) = configured_specs({"ML_PLATFORM_SPEC_DIR": str(tmp_path / "specs")})
    assert spec == short_flights_spec()
    assert str(spec.partitioning.end) == SHORT_END
    with pytest.raises(SpecError, match="no \\*.yaml spec files"):
        configured_specs({"ML_PLATFORM_SPEC_DIR": str(tmp_path / "empty")})


def test_ui_links_follow_the_environment(tmp_path) -> None:
    default = current_environment({"ML_PLATFORM_HOME": str(tmp_path)})
    assert default.mlflow_ui_url == "http://127.0.0.1:5000"
    moved = current_environment(
        {
            "ML_PLATFORM_HOME": str(tmp_path),
            "ML_PLATFORM_MLFLOW_UI_URL": "http://127.0.0.1:5123",
            "ML_PLATFORM_DAGSTER_UI_URL": "http://127.0.0.1:3123",
        }
    )
    registry = moved.mlflow()
    assert (
        registry.run_url("1", "abc")
        == "http://127.0.0.1:5123/#/experiments/1/runs/abc?workflowType=machine_learning"
    )
    assert registry.dagster_run_url("r1") == "http://127.0.0.1:3123/runs/r1"
