"""Days with no delivery and days with zero rows, alone and inside a range: the ingest job of a
small regression spec over a real landing directory, run in process on a ``dg.instance_for_test``
instance (real Dagster runs, real CSV files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform.specs import parse_spec
from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing
from ml_platform_tests.instances import local_instance

EMPTY, GAP = "2024-01-04", "2024-01-06"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    write_synthetic_landing(tmp_path / "landing", days=10)
    sales = tmp_path / "landing" / "sales"
    header = (sales / f"{EMPTY}.csv").read_text().splitlines()[0]
    (sales / f"{EMPTY}.csv").write_text(header + "\n")  # delivered, zero rows
    (sales / f"{GAP}.csv").unlink()  # never delivered
    return tmp_path / "landing"


def ingest(landing: Path, home: Path, first: str, last: str, **partitioning: Any) -> tuple[bool, str]:
    data = synthetic_regression_spec(landing, days=10).model_dump(mode="json", exclude_unset=True)
    data["partitioning"] |= partitioning
    spec = parse_spec(data)
    defs = build_definitions([spec], local_environment(home))
    job = defs.resolve_job_def("synthetic_demand_ingest")
    tags = {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
    with local_instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags=tags if first != last else {},
            partition_key=first if first == last else None,
            raise_on_error=False,
        )
        errors = [
            str(e.event_specific_data.error.message)  # type: ignore[union-attr]
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE"
        ]
    return result.success, " | ".join(errors)


def test_an_empty_day_fails_alone_and_in_a_range_alike(landing: Path, tmp_path: Path) -> None:
    for days in ((EMPTY, EMPTY), ("2024-01-03", "2024-01-05")):
        ok, errors = ingest(landing, tmp_path / "home", *days)
        assert not ok
        assert f"empty delivery (0 rows) for {EMPTY}; set partitioning.empty_days: allow" in errors


def test_a_missing_day_fails_by_default_and_is_allowed_by_the_spec(landing: Path, tmp_path: Path) -> None:
    for days in ((GAP, GAP), ("2024-01-05", "2024-01-07")):
        ok, errors = ingest(landing, tmp_path / "home", *days)
        assert not ok
        assert f"no delivery for table 'sales' on {GAP}" in errors
        assert "partitioning.missing_days: fail" in errors
    ok, errors = ingest(
        landing, tmp_path / "home2", "2024-01-05", "2024-01-07", missing_days="allow", empty_days="allow"
    )
    assert ok, errors


def test_allowed_missing_and_empty_days_pass_alone_and_in_a_range_alike(
    landing: Path, tmp_path: Path
) -> None:
    allow = {"missing_days": "allow", "empty_days": "allow"}
    for n, days in enumerate(((GAP, GAP), (EMPTY, EMPTY), ("2024-01-03", "2024-01-07"))):
        ok, errors = ingest(landing, tmp_path / f"home{n}", *days, **allow)
        assert ok, (days, errors)
    with pytest.raises(Exception, match="missing_days: allow needs empty_days: allow"):
        ingest(landing, tmp_path / "home9", GAP, GAP, missing_days="allow")
