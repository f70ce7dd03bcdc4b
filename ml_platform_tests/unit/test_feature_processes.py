"""A run's partitions built in several processes: whole partitions per piece, the same features as
one pass (real flights, real spawned workers), a worker's error reaching the step with its words."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from flights_delay.source import Nycflights13Source

from bench.common import read_clean
from ml_platform.features.engine import feature_engine
from ml_platform.features.processes import (
    available_cpus,
    build_in_processes,
    partition_pieces,
    process_count,
)
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import build_features, builder_for
from ml_platform.specs import bundled_specs


def test_pieces_hold_whole_consecutive_partitions_with_about_equal_rows() -> None:
    labels = pd.Series(["a"] * 5 + ["b"] * 1 + ["c"] * 4 + ["d"] * 6 + ["e"] * 4)
    pieces = partition_pieces(labels, 2)
    assert [labels.iloc[p].unique().tolist() for p in pieces] == [["a", "b", "c"], ["d", "e"]]
    assert np.concatenate(pieces).tolist() == list(range(20))  # every row once, in order
    three = partition_pieces(labels, 3)
    assert [len(p) for p in three] == [6, 10, 4]  # cut at the partition start nearest each share
    assert [labels.iloc[p].unique().tolist() for p in partition_pieces(labels, 9)] == [
        ["a"],
        ["b"],
        ["c"],
        ["d"],
        ["e"],
    ]
    assert partition_pieces(pd.Series([], dtype=object), 2) == []


def test_process_count_is_bounded_by_partitions_rows_and_the_request() -> None:
    assert process_count(2, rows=1_000_000, partitions=365, min_rows=100_000) == 2
    assert process_count(4, rows=250_000, partitions=365, min_rows=100_000) == 2  # shares of 100k rows
    assert process_count(4, rows=1_000_000, partitions=3, min_rows=100_000) == 3
    assert process_count(4, rows=900, partitions=1, min_rows=100_000) == 1  # one new day: in process
    assert process_count(0, rows=10**9, partitions=10**4, min_rows=1) == min(available_cpus(), 8)


def test_available_cpus_follows_a_container_quota(tmp_path: Path) -> None:
    quota = tmp_path / "cpu.max"
    quota.write_text("100000 100000\n")  # a limit of one CPU
    assert available_cpus(str(quota)) == 1
    quota.write_text("max 100000\n")
    assert available_cpus(str(quota)) == available_cpus(str(tmp_path / "absent"))


@pytest.fixture(scope="module")
def flights_days() -> tuple[Any, pd.DataFrame, dict[str, pd.DataFrame]]:
    import datetime as dt

    spec = bundled_specs()[0]
    cleaned = read_clean(
        spec,
        Nycflights13Source(),
        dt.date(2013, 3, 8),
        dt.date(2013, 3, 14),
        [spec.main_table, *spec.auxiliary_tables],
    )
    main = cleaned.pop(spec.main_table.name)
    return spec, main, cleaned


def test_features_built_in_processes_equal_one_pass(flights_days) -> None:
    spec, main, aux = flights_days
    one_pass = build_features(spec, main, aux)
    spread = feature_engine().model_copy(update={"processes": 3, "min_rows_per_process": 1})
    assert spread.processes_for(spec, main) == 3  # what the features step's log line names
    built = spread.build(spec, main, aux)
    pd.testing.assert_frame_equal(built, one_pass)
    assert built[PARTITION_COLUMN].nunique() == 7
    assert built["origin_pending_n"].sum() > 0  # congestion, computed per day in the workers


def test_a_run_too_small_for_processes_stays_in_the_step(flights_days, monkeypatch) -> None:
    spec, main, aux = flights_days

    def no_pool(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("spread over processes")

    monkeypatch.setattr("ml_platform.features.engine.build_in_processes", no_pool)
    engine = feature_engine().model_copy(update={"processes": 2})  # 100k rows per process: too few
    assert engine.processes_for(spec, main) == 1
    pd.testing.assert_frame_equal(engine.build(spec, main, aux), build_features(spec, main, aux))
    assert builder_for(spec).parallel_partitions


def failing_builder(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> Any:
    failing = os.environ.get("FAILING_DAY", "2013-03-12")
    if (main[PARTITION_COLUMN] == failing).any():
        raise KeyError(f"column 'wx_temp' missing for {failing}")
    return main[["distance"]]


@pytest.mark.parametrize("day", ["2013-03-12", "2013-03-08"], ids=["a_workers_piece", "the_steps_own_piece"])
def test_a_builders_error_reaches_the_step_with_its_words_and_leaves_no_worker(
    flights_days, monkeypatch, day: str
) -> None:
    """The week is cut in two: 03-08..03-11 built in the step's process, 03-12..03-14 in a worker
    (spawned: it sees the environment as set here)."""
    import multiprocessing

    _, main, aux = flights_days
    monkeypatch.setenv("FAILING_DAY", day)
    with pytest.raises(KeyError, match=f"wx_temp' missing for {day}"):
        build_in_processes(failing_builder, main, aux, {}, processes=2)
    assert multiprocessing.active_children() == []  # the worker was waited for: nothing outlives the step


def test_rows_not_grouped_by_partition_are_built_in_one_pass(flights_days) -> None:
    _, main, aux = flights_days
    shuffled = main.sample(frac=1.0, random_state=0)
    out = build_in_processes(lambda m, a, o: m[["distance"]], shuffled, aux, {}, processes=2)
    assert out.index.equals(shuffled.index)  # a lambda cannot be pickled: no worker was used


def dying_builder(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> Any:
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None:  # a worker (the first piece is the caller's)
        os._exit(137)  # as a worker killed for memory ends
    return main[["distance"]]


def test_a_worker_that_dies_fails_the_step_naming_the_days_and_the_setting(flights_days) -> None:
    _, main, aux = flights_days
    with pytest.raises(RuntimeError, match=r"died while building partitions 2013-03-08\.\.2013-03-14") as err:
        build_in_processes(dying_builder, main, aux, {}, processes=2)
    assert "processes: 1" in str(err.value)
