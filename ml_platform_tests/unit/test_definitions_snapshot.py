"""Snapshot of the generated Definitions (asset keys, deps, partitions, checks, jobs, sensors,
schedules, resources) for the bundled specs and the synthetic regression spec: a restructure or a
refactor must not change them. Real parts: Dagster's definition builders, no instance.
Regenerate on purpose with ``ML_PLATFORM_UPDATE_SNAPSHOTS=1 pytest …/test_definitions_snapshot.py``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform.specs import bundled_specs
from ml_platform_tests.helpers import synthetic_regression_spec
from ml_platform_tests.snapshot import definitions_snapshot

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "definitions.json"


def test_generated_definitions_match_the_snapshot(tmp_path: Path) -> None:
    specs = [*bundled_specs(), synthetic_regression_spec(tmp_path / "landing")]
    got = definitions_snapshot(build_definitions(specs, local_environment(tmp_path)))
    if os.environ.get("ML_PLATFORM_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(SNAPSHOT.read_text())
    for section in want:
        assert got[section] == want[section], f"definitions changed in section {section!r}"
    assert set(got) == set(want)
    assert len(got["assets"]) == 24 and "flights_delay/deployment" in got["assets"]
    assert "flights_delay/predictions" in got["assets"] and "flights_delay/live_performance" in got["assets"]


def test_building_the_definitions_warns_of_nothing_the_platform_chose(tmp_path: Path) -> None:
    """Partitioned checks and single-run backfills are used by design: building them (as every CLI
    command and code server load does) prints no preview or beta warning; another warning would."""
    import warnings

    import dagster as dg

    from ml_platform.pipeline.build import pipeline_assets
    from ml_platform.pipeline.names import PipelineNames

    specs = [*bundled_specs(), synthetic_regression_spec(tmp_path / "landing")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # over pytest's ignore filters and the once-per-place default
        build_definitions(specs, local_environment(tmp_path))
        pipeline_assets(PipelineNames(specs[0]))  # what `ml-platform status` builds
        warnings.warn("a preview the platform did not choose", dg.PreviewWarning, stacklevel=1)
    found = [f"{w.category.__name__}: {w.message}" for w in caught]
    assert found == ["PreviewWarning: a preview the platform did not choose"]
