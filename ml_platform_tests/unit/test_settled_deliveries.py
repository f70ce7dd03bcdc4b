"""Which files of a landing directory count as deliveries (real files on disk, real mtimes): only
settled ones (unchanged for the quiet period, or with their done marker), never an ambiguous day,
and every file left out is named with the reason."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from ml_platform.sources.landing_dir import LandingDirSource
from ml_platform.sources.retry import PermanentSourceError
from ml_platform_tests.instances import local_instance

CSV = "year,month,day,x\n2024,1,{d},1\n"
DATES = ("year", "month", "day")


def _write(folder: Path, name: str, age_seconds: float = 60.0, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text if text is not None else CSV.format(d=int(name[8:10]) if name[:4].isdigit() else 1))
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def test_a_file_still_being_written_is_not_a_delivery_until_it_settles(tmp_path: Path) -> None:
    source = LandingDirSource(path=str(tmp_path), quiet_seconds=5)
    _write(tmp_path / "sales", "2024-01-01.csv")
    half = _write(tmp_path / "sales", "2024-01-02.csv", age_seconds=0.5, text="year,month,day,x\n2024,1,2")
    assert list(source.list_deliveries("sales", DATES)) == ["2024-01-01"]
    (note,) = source.delivery_notes("sales")
    assert note.startswith("table 'sales' day 2024-01-02: 2024-01-02.csv changed ")
    assert note.endswith("s ago, not settled yet (quiet period 5s)")
    old = time.time() - 10
    os.utime(half, (old, old))  # the writer finished long enough ago
    assert list(source.list_deliveries("sales", DATES)) == ["2024-01-01", "2024-01-02"]
    assert source.delivery_notes("sales") == []


def test_with_a_done_marker_only_marked_files_count(tmp_path: Path) -> None:
    source = LandingDirSource(path=str(tmp_path), done_marker=".done")
    _write(tmp_path / "sales", "2024-01-01.csv", age_seconds=0)
    _write(tmp_path / "sales", "2024-01-01.csv.done", age_seconds=0, text="")
    _write(tmp_path / "sales", "2024-01-02.csv", age_seconds=3600)
    assert list(source.list_deliveries("sales", DATES)) == ["2024-01-01"]
    assert source.delivery_notes("sales") == [
        "table 'sales' day 2024-01-02: 2024-01-02.csv waits for its done marker 2024-01-02.csv.done"
    ]


def test_two_files_for_one_day_are_reported_and_never_read(tmp_path: Path) -> None:
    source = LandingDirSource(path=str(tmp_path), quiet_seconds=0, max_retries=0)
    _write(tmp_path / "sales", "2024-01-03.csv")
    _write(tmp_path / "sales", "2024-01-03.parquet", text="stale")
    assert source.list_deliveries("sales", DATES) == {}
    assert source.delivery_notes("sales") == [
        "table 'sales' day 2024-01-03: ambiguous delivery 2024-01-03.csv and 2024-01-03.parquet, "
        "not read: remove the stale one"
    ]
    with pytest.raises(
        PermanentSourceError, match="ambiguous delivery 2024-01-03.parquet and 2024-01-03.csv"
    ):
        source.fetch_days("sales", dt.date(2024, 1, 3), dt.date(2024, 1, 3), DATES)


def test_names_the_layout_does_not_know_are_named(tmp_path: Path) -> None:
    source = LandingDirSource(path=str(tmp_path), quiet_seconds=0)
    for name in ("2024-01-04.CSV", "2024-01-05.csv.gz", "2013-02-30.csv", "notes.txt"):
        _write(tmp_path / "sales", name, text="x\n1\n")
    _write(tmp_path / "sales", ".2024-01-06.csv.tmp-123", text="x\n")  # a writer's temp file: silent
    assert source.list_deliveries("sales", DATES) == {}
    assert source.delivery_notes("sales") == [
        "table 'sales': ignored 4 file(s) with unknown names: 2013-02-30.csv (not a date), "
        "2024-01-04.CSV (not .csv or .parquet), 2024-01-05.csv.gz (not .csv or .parquet), "
        "notes.txt (not .csv or .parquet)"
    ]


def test_the_new_data_sensor_names_what_it_left_out_in_its_skip_reason(tmp_path: Path) -> None:
    import dagster as dg

    from ml_platform.definitions import build_definitions
    from ml_platform.environments import local_environment
    from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing

    landing = tmp_path / "landing"
    write_synthetic_landing(landing, days=8)
    (landing / "sales" / "2024-01-02.parquet").write_bytes(b"stale")  # beside 2024-01-02.csv
    spec = synthetic_regression_spec(landing, days=8)
    for p in (landing / "sales").glob("2024-01-0[3-8].csv"):
        p.unlink()  # two days delivered
    defs = build_definitions([spec], local_environment(tmp_path / "home"))
    sensor = defs.resolve_sensor_def("synthetic_demand_new_data_sensor")
    with (
        local_instance() as instance,
        dg.build_sensor_context(instance=instance, resources=dict(defs.resources or {})) as context,
    ):
        result = sensor(context)
    assert [r.partition_key for r in result.run_requests] == ["2024-01-01"]  # the unambiguous day only
    assert result.skip_reason is None
    with local_instance() as instance:
        landing_only = [p for p in (landing / "sales").iterdir() if p.name.startswith("2024-01-01")]
        for p in landing_only:
            p.unlink()
        with dg.build_sensor_context(instance=instance, resources=dict(defs.resources or {})) as context:
            skipped = sensor(context)
    reason = skipped.skip_message if isinstance(skipped, dg.SkipReason) else skipped.skip_reason.skip_message
    assert "table 'sales' day 2024-01-02: ambiguous delivery 2024-01-02.csv and 2024-01-02.parquet" in reason
