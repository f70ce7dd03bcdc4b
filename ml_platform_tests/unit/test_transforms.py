"""``features.transforms`` on the real pandas engine and the real spec loader: each transform's values
on small hand-checked frames (window bounds, ties, self-exclusion, missing values), the expression
language's refusals, and spec errors that name the transform and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from ml_platform.features.transforms import produced_columns
from ml_platform.ml.expressions import ExpressionError, parse
from ml_platform.ml.transforms import frame_checksum, run_transforms
from ml_platform.specs import SpecError, load_spec
from ml_platform.specs.transforms import TimeRef, Transform

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flights_transforms.yaml"
TRANSFORMS = TypeAdapter(list[Transform])
T0 = pd.Timestamp("2024-03-04 10:00")  # a Monday


def _run(main: pd.DataFrame, transforms: list[dict], aux: dict | None = None, **when: Any) -> pd.DataFrame:
    prediction = TimeRef(column="ts", **when) if "ts" in main else None
    return run_transforms(main, aux or {}, TRANSFORMS.validate_python(transforms), prediction)


def _at(*minutes: float) -> list[pd.Timestamp]:
    return [T0 + pd.Timedelta(minutes=m) for m in minutes]


def test_datetime_parts_from_a_column_or_from_date_parts() -> None:
    main = pd.DataFrame({"ts": [*_at(0, 60 * 24 * 5 + 1), pd.NaT], "y": [2024, 2024, 2024], "m": [3, 3, 3]})
    main["d"], main["h"] = [4, 9, 10], [10, 10, 0]
    out = _run(
        main,
        [
            {"kind": "datetime_parts", "time": {"column": "ts"}},
            {
                "kind": "datetime_parts",
                "time": {"parts": {"year": "y", "month": "m", "day": "d", "hour": "h"}},
            },
        ],
    )
    assert out[["ts_weekday", "ts_is_weekend", "ts_hour", "ts_minute", "ts_day_of_year"]].iloc[
        1
    ].tolist() == [
        5.0,
        1.0,
        10.0,
        1.0,
        69.0,
    ]
    assert out["ts_weekday"].iloc[0] == 0.0 and out["ts_is_weekend"].iloc[0] == 0.0  # Monday
    assert out.iloc[2][[c for c in out if c.startswith("ts_")]].isna().all()  # no time: no parts
    assert out[["time_day", "time_weekday", "time_hour"]].iloc[1].tolist() == [9.0, 5.0, 10.0]


def test_a_tz_aware_time_is_read_as_wall_time_in_its_timezone() -> None:
    main = pd.DataFrame({"ts": pd.to_datetime(["2024-07-01 03:30", "2024-01-01 03:30"]).tz_localize("UTC")})
    out = _run(main, [{"kind": "datetime_parts", "time": {"column": "ts", "timezone": "America/New_York"}}])
    assert out["ts_hour"].tolist() == [23.0, 22.0] and out["ts_day"].tolist() == [30.0, 31.0]  # EDT, EST
    utc = _run(main, [{"kind": "datetime_parts", "time": {"column": "ts"}, "parts": ["hour"]}])
    assert utc["ts_hour"].tolist() == [3.0, 3.0]


def test_expression_semantics_and_refusals() -> None:
    main = pd.DataFrame({"a": [1.0, 2.0, np.nan, -4.0], "b": [0.0, 4.0, 1.0, 2.0]})
    out = _run(
        main,
        [
            {"kind": "expression", "name": "ratio", "expr": "a / b"},
            {"kind": "expression", "name": "big", "expr": "a >= 2"},
            {"kind": "expression", "name": "mix", "expr": "-a ** 2 + sqrt(b) + log(b)"},
        ],
    )
    np.testing.assert_array_equal(out["ratio"], [np.nan, 0.5, np.nan, -2.0])  # x / 0 is missing
    np.testing.assert_array_equal(out["big"], [0.0, 1.0, np.nan, 0.0])  # missing stays missing
    assert out["mix"].iloc[1] == pytest.approx(-4 + 2 + np.log(4))
    assert np.isnan(out["mix"].iloc[0])  # log(0) is missing
    for bad in ("__import__('os').system('true')", "a.real", "a if b else 1", "[a]", "1 < a < 2", "'x' + a"):
        with pytest.raises(ExpressionError, match="is not allowed"):
            parse(bad)
    assert parse("abs(a - b) / a").columns() == ["a", "b"]


def test_bucket_and_missing_policies() -> None:
    main = pd.DataFrame({"x": [-1.0, 0.0, 0.5, 9.0, np.nan]})
    out = _run(
        main,
        [
            {"kind": "bucket", "name": "b", "column": "x", "edges": [0, 1]},
            {"kind": "bucket", "name": "lab", "column": "x", "edges": [0, 1], "labels": ["lo", "mid", "hi"]},
            {
                "kind": "bucket",
                "name": "f",
                "column": "x",
                "edges": [0],
                "missing": {"policy": "fill", "value": -1},
            },
            {"kind": "bucket", "name": "i", "column": "x", "edges": [0], "missing": {"policy": "indicator"}},
        ],
    )
    np.testing.assert_array_equal(out["b"], [0.0, 1.0, 1.0, 2.0, np.nan])  # edges[i-1] <= x < edges[i]
    assert out["lab"].tolist() == ["lo", "mid", "mid", "hi", None]
    assert out["f"].tolist() == [0.0, 1.0, 1.0, 1.0, -1.0]
    assert out["i_missing"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0] and np.isnan(out["i"].iloc[4])


def test_lookup_join_plain_and_as_of() -> None:
    main = pd.DataFrame({"k": ["a", "a", "b", None], "ts": _at(0, 30, 0, 0)})
    plain = pd.DataFrame({"key": ["a", "a", "b"], "x": [1.0, 2.0, 3.0], "s": ["p", "q", "r"]})
    stamped = pd.DataFrame(
        {"k": ["a", "a", "a", "b"], "t": _at(-90, -10, 0, -200), "y": [1.0, 2.0, 3.0, 4.0]}
    )
    out = _run(
        main,
        [
            {
                "kind": "lookup_join",
                "table": "plain",
                "keys": {"k": "key"},
                "columns": {"x": "x_last", "s": "s"},
            },
            {
                "kind": "lookup_join",
                "table": "plain",
                "keys": {"k": "key"},
                "columns": {"x": "x_first"},
                "duplicates": "first",
            },
            {
                "kind": "lookup_join",
                "table": "stamped",
                "keys": ["k"],
                "columns": {"y": "y"},
                "as_of": {"time": {"column": "t"}},
            },
            {
                "kind": "lookup_join",
                "table": "stamped",
                "keys": ["k"],
                "columns": {"y": "y_hour"},
                "as_of": {"time": {"column": "t"}, "floor": "hour", "max_age_minutes": 60},
            },
        ],
        {"plain": plain, "stamped": stamped},
    )
    assert out["x_last"].tolist()[:3] == [2.0, 2.0, 3.0] and out["x_first"].tolist()[:3] == [1.0, 1.0, 3.0]
    assert out["s"].tolist() == ["q", "q", "r", None]  # a missing key matches nothing
    # 10:00: the row stamped 10:00 is not strictly before it; 10:30: it is
    np.testing.assert_array_equal(out["y"], [2.0, 3.0, 4.0, np.nan])
    # floored to 10:00, at most 60 min old: 09:50 qualifies; b's 06:40 is too old
    np.testing.assert_array_equal(out["y_hour"], [2.0, 2.0, np.nan, np.nan])


def test_lag_and_rolling_window_bounds_ties_and_self_exclusion() -> None:
    # row 0 predicted at 10:00; own events are known at ts + d (row 0 itself at 09:50: excluded)
    main = pd.DataFrame(
        {
            "k": ["a"] * 5 + ["b"],
            "ts": _at(0, -60, -30, -30, 0, -30),
            "d": [-10.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "v": [100.0, 1.0, 2.0, 4.0, 8.0, 16.0],
        }
    )
    own = {"keys": ["k"], "time": {"column": "ts", "plus_minutes_column": "d"}, "value": "v"}
    out = _run(
        main,
        [
            {
                "kind": "rolling",
                "window_minutes": 60,
                "aggs": ["count", "sum", "mean", "min", "max", "std"],
                **own,
            },
            {"kind": "rolling", "window_minutes": 30, "aggs": {"count": "n30"}, **own},
            {"kind": "lag", "name": "lag1", **own},
            {"kind": "lag", "name": "lag2", "n": 2, **own},
            {"kind": "lag", "name": "lag3_recent", "n": 3, "max_age_minutes": 45, **own},
        ],
    )
    row = out.iloc[0]
    # [09:00, 10:00): 09:00, 09:30, 09:30 — not row 4 (10:00), not row 0 itself, not k=b
    assert [row["v_count"], row["v_sum"], row["v_min"], row["v_max"]] == [3.0, 7.0, 1.0, 4.0]
    assert row["v_mean"] == pytest.approx(7 / 3) and row["v_std"] == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert row["n30"] == 2.0  # the window starts at 09:30, inclusive
    assert (row["lag1"], row["lag2"]) == (4.0, 2.0)  # a tie at 09:30: the later row is the more recent
    assert np.isnan(row["lag3_recent"])  # 09:00 is older than 45 minutes
    assert out.iloc[5][["v_count", "v_sum"]].tolist() == [0.0, 0.0] and np.isnan(out.iloc[5]["v_mean"])


def test_frame_checksum_sees_values_order_and_missing() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan, 1 / 3], "s": ["x", None, "y"]})
    same = frame.assign(a=[1.0 + 1e-12, np.nan, 1 / 3])
    assert frame_checksum(frame) == frame_checksum(same)
    assert frame_checksum(frame) != frame_checksum(frame.assign(a=[1.0, 0.0, 1 / 3]))
    assert frame_checksum(frame) != frame_checksum(frame.iloc[::-1])
    assert frame_checksum(frame) != frame_checksum(frame.assign(s=["x", "None", "y"]))


def _example_with(**features: Any) -> Any:
    return load_spec(EXAMPLE, {"features": features})


def test_the_example_spec_validates_and_its_columns_are_known_statically() -> None:
    spec = load_spec(EXAMPLE)
    columns = produced_columns(spec)
    assert set(spec.features.model_columns) <= set(columns)
    assert columns[-2:] == ["origin_day_delay_mean", "carrier_origin_dep_delay_mean_3h"]


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (
            {"transforms": [{"kind": "expression", "name": "x", "expr": "open('f')"}]},
            r"features\.transforms\.0\.expression\.expr: .*'open\('f'\)' is not allowed",
        ),
        (
            {"transforms": [{"kind": "expression", "name": "x", "expr": "nope + 1"}]},
            r"features\.transforms\.0 \(expression\): unknown columns \['nope'\]",
        ),
        (
            {"transforms": [{"kind": "bucket", "name": "x", "column": "distance", "edges": [2, 1]}]},
            r"features\.transforms\.0\.bucket: .*edges must be strictly increasing",
        ),
        (
            {"transforms": [{"kind": "lookup_join", "table": "nope", "keys": ["origin"], "columns": ["x"]}]},
            r"features\.transforms\.0 \(lookup_join\)\.table: 'nope' is not an auxiliary table",
        ),
        (
            {
                "transforms": [
                    {"kind": "lookup_join", "table": "planes", "keys": ["dep_delay"], "columns": ["seats"]}
                ]
            },
            r"features\.transforms\.0 \(lookup_join\): reads \['dep_delay'\] of the row itself, known only after",
        ),
        (
            {
                "transforms": [{"kind": "expression", "name": "late", "expr": "arr_delay > 15"}],
                "numeric": ["late"],
            },
            r"model columns \['late'\] are known only after prediction time",
        ),
        (
            {"prediction_time": None},
            r"features\.transforms\.5 \(lookup_join\): needs features\.prediction_time",
        ),
        (
            {"numeric": ["distance", "wx_typo"]},
            r"features\.numeric: \['wx_typo'\] are neither main_table columns",
        ),
        ({"builder": "columns"}, r"transforms are run by builder 'transforms', not 'columns'"),
        (
            {"transforms": [{"kind": "bucket", "name": "x", "column": "carrier", "edges": [1]}]},
            r"features\.transforms\.0 \(bucket\): reads text columns \['carrier'\]; expressions and buckets need numbers",
        ),
    ],
    ids=[
        "unsafe-expr",
        "unknown-column",
        "edges",
        "unknown-table",
        "late-key",
        "late-model-column",
        "no-time",
        "typo",
        "builder",
        "text",
    ],
)
def test_spec_errors_name_the_transform_and_the_field(features: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        _example_with(**features)
    assert str(EXAMPLE) in str(caught.value)
