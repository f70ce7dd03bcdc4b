"""The retrain sensor's cooldown, on the wall clock (hours) or on the data's clock (partitions)."""

from ml_platform.pipeline.sensors.retrain import cooldown_text, cooling_reason
from ml_platform.specs.monitoring import MonitoringSpec

DRIFT = ["drift: wx_visib PSI 7.01 (2013-03-25)"]


def test_hours_cooldown_holds_a_check_retrain_until_the_hours_pass() -> None:
    spec = MonitoringSpec(retrain_cooldown_hours=24)
    held = cooling_reason(spec, DRIFT, waited=2 * 3600, since=5)
    assert held == (
        "1 failed check(s) (drift: wx_visib PSI 7.01 (2013-03-25)), but the last retrain was "
        "2.0 h ago (cooldown 24 h)"
    )
    assert cooling_reason(spec, DRIFT, waited=25 * 3600, since=0) == ""
    assert cooldown_text(spec) == "24 h"


def test_partitions_cooldown_counts_new_days_not_hours() -> None:
    spec = MonitoringSpec(retrain_cooldown_hours=72, retrain_cooldown_partitions=3)
    # minutes after the last retrain (a replay), but three new days since: may retrain
    assert cooling_reason(spec, DRIFT, waited=60, since=3) == ""
    # days of wall time, but only two new days of data: held, saying so
    held = cooling_reason(spec, DRIFT, waited=10 * 86400, since=2)
    assert held.endswith("the last retrain was 2 new partition(s) ago (cooldown 3)")
    assert cooldown_text(spec) == "3 new partitions"


def test_no_cooldown_before_the_first_retrain_or_without_failed_checks() -> None:
    spec = MonitoringSpec(retrain_cooldown_partitions=3)
    assert cooling_reason(spec, DRIFT, waited=60, since=None) == ""
    assert cooling_reason(MonitoringSpec(), [], waited=0, since=0) == ""
