"""Property tests of the transforms' leak-freedom on the real pandas engine (``ml/transforms.py``),
50 seeded random cases per transform: for a random row, perturbing everything known at or after its
prediction time (other rows' later events and lookup rows, the row's own post-prediction columns)
leaves its features unchanged, while perturbing what was known before it changes them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from ml_platform.ml.transforms import run_transforms, time_seconds
from ml_platform.specs.transforms import TimeRef, Transform

CASES = 50
DAY0 = pd.Timestamp("2024-03-01")
TRANSFORMS = TypeAdapter(list[Transform])


def _minutes(rng: np.random.Generator, n: int) -> pd.Series:
    return DAY0 + pd.to_timedelta(rng.integers(0, 600, n), unit="m")


def _world(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Main rows (entity ``k``, scheduled time ``ts``, a delay ``d`` and value ``v`` known only once
    the row's event happened at ``ts + d``), an events table and a time-stamped lookup table."""
    n = int(rng.integers(8, 30))
    main = pd.DataFrame(
        {
            "k": rng.choice(["a", "b", "c"], n),
            "ts": _minutes(rng, n),
            "d": rng.integers(-20, 90, n).astype(float),
            "v": rng.normal(size=n).round(3),
            "x": rng.normal(size=n).round(3),
        }
    )
    m = int(rng.integers(5, 30))
    events = pd.DataFrame(
        {"k": rng.choice(["a", "b", "c"], m), "t": _minutes(rng, m), "w": rng.normal(size=m)}
    )
    lookup = pd.DataFrame(
        {"k": rng.choice(["a", "b", "c"], m), "t": _minutes(rng, m), "y": rng.normal(size=m)}
    )
    return main, {"events": events, "lookup": lookup}


def _row_features(
    main: pd.DataFrame, aux: dict[str, pd.DataFrame], spec: list[dict], lead: int, i: int
) -> pd.Series:
    out = run_transforms(main, aux, TRANSFORMS.validate_python(spec), _prediction(lead))
    return out.drop(columns=main.columns).iloc[i]


def _prediction(lead: int) -> TimeRef:
    return TimeRef(column="ts", minus_minutes=lead)


Perturb = Callable[[np.random.Generator, pd.DataFrame, dict[str, pd.DataFrame], int, float], bool]


World = Callable[[np.random.Generator], tuple[pd.DataFrame, dict[str, pd.DataFrame]]]


def _check(
    spec: Callable[[np.random.Generator], list[dict]], later: Perturb, earlier: Perturb, world: World = _world
) -> None:
    """``later`` perturbs what is known at/after row i's prediction time p; ``earlier`` perturbs
    something known before it and returns whether it did (some rows have nothing earlier)."""
    changed_cases = 0
    for seed in range(CASES):
        rng = np.random.default_rng(seed)
        main, aux = world(rng)
        lead = int(rng.choice([0, 30]))
        i = int(rng.integers(len(main)))
        p = float(time_seconds(main, _prediction(lead)).iloc[i])
        transforms = spec(rng)
        before = _row_features(main, aux, transforms, lead, i)
        m2, a2 = main.copy(), {k: v.copy() for k, v in aux.items()}
        later(rng, m2, a2, i, p)
        pd.testing.assert_series_equal(_row_features(m2, a2, transforms, lead, i), before, obj=f"seed {seed}")
        m3, a3 = main.copy(), {k: v.copy() for k, v in aux.items()}
        if earlier(rng, m3, a3, i, p):
            after = _row_features(m3, a3, transforms, lead, i)
            assert not after.equals(before), f"seed {seed}: an earlier change did not reach the features"
            changed_cases += 1
    assert changed_cases >= CASES // 3  # the sensitivity half ran on enough cases to mean something


def _secs(ts: pd.Series) -> np.ndarray:
    return ((ts - pd.Timestamp(0)) / pd.Timedelta(seconds=1)).to_numpy()


def _own_later(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
    """Main rows whose event (ts + d) is at/after p, and row i's own d and v: new values, later times."""
    event = _secs(main["ts"]) + main["d"].to_numpy() * 60
    late = (event >= p) | (np.arange(len(main)) == i)
    main.loc[late, "v"] = rng.normal(size=late.sum()) * 100
    main.loc[late & (np.arange(len(main)) != i), "d"] += rng.integers(0, 300, late.sum() - late[i])
    main.loc[i, "d"] = float(rng.integers(-100, 100))
    return True


def _aux_later(table: str, value: str) -> Perturb:
    def perturb(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        frame = aux[table]
        late = _secs(frame["t"]) >= p
        frame.loc[late, value] = rng.normal(size=late.sum()) * 100
        frame.loc[late, "t"] += pd.to_timedelta(rng.integers(0, 300, late.sum()), unit="m")
        extra = frame.sample(3, replace=True, random_state=int(rng.integers(1000))).assign(
            t=pd.Timestamp(0) + pd.Timedelta(seconds=p), **{value: 1e6}
        )
        aux[table] = pd.concat([frame, extra], ignore_index=True)  # new rows stamped exactly at p
        return True

    return perturb


def _earlier_rows(frame: pd.DataFrame, secs: np.ndarray, key: str, p: float, window: float) -> np.ndarray:
    return (frame["k"].to_numpy() == key) & (secs < p) & (secs >= p - window)


def test_rolling_sees_only_events_strictly_before_prediction_time() -> None:
    def spec(rng: np.random.Generator) -> list[dict]:
        window = int(rng.choice([60, 180, 600]))
        own = {"keys": ["k"], "time": {"column": "ts", "plus_minutes_column": "d"}, "value": "v"}
        other = {"table": "events", "keys": ["k"], "time": {"column": "t"}, "value": "w"}
        aggs = ["count", "mean", "sum", "min", "max", "std"]
        return [
            {"kind": "rolling", "name": "own", "window_minutes": window, "aggs": aggs, **own},
            {"kind": "rolling", "name": "oth", "window_minutes": window, "aggs": aggs, **other},
        ]

    def later(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        return _own_later(rng, main, aux, i, p) and _aux_later("events", "w")(rng, main, aux, i, p)

    def earlier(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        events = aux["events"]
        rows = _earlier_rows(events, _secs(events["t"]), main.loc[i, "k"], p, 60 * 60)
        if not rows.any():
            return False
        events.loc[rows, "w"] = events.loc[rows, "w"] * 3 + 1000  # shifts mean/sum/min/max, scales std
        return True

    _check(spec, later, earlier)


def test_lag_sees_only_values_known_strictly_before_prediction_time() -> None:
    def spec(rng: np.random.Generator) -> list[dict]:
        own = {"keys": ["k"], "time": {"column": "ts", "plus_minutes_column": "d"}, "value": "v"}
        return [
            {"kind": "lag", "name": "own_lag", "n": int(rng.integers(1, 3)), **own},
            {
                "kind": "lag",
                "name": "oth_lag",
                "table": "events",
                "keys": ["k"],
                "time": {"column": "t"},
                "value": "w",
            },
        ]

    def later(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        return _own_later(rng, main, aux, i, p) and _aux_later("events", "w")(rng, main, aux, i, p)

    def earlier(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        events = aux["events"]
        rows = _earlier_rows(events, _secs(events["t"]), main.loc[i, "k"], p, np.inf)
        if not rows.any():
            return False
        events.loc[rows, "w"] += 1000  # the latest earlier value is among them
        return True

    _check(spec, later, earlier)


def test_as_of_lookup_sees_only_rows_stamped_strictly_before_prediction_time() -> None:
    def spec(rng: np.random.Generator) -> list[dict]:
        floor = rng.choice([None, "hour"])
        as_of = {"time": {"column": "t"}, "floor": floor}
        return [
            {"kind": "lookup_join", "table": "lookup", "keys": ["k"], "columns": {"y": "y"}, "as_of": as_of}
        ]

    def earlier(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        lookup = aux["lookup"]
        rows = _earlier_rows(lookup, _secs(lookup["t"]), main.loc[i, "k"], p, np.inf)
        if not (rows & (_secs(lookup["t"]) < p - 3600)).any():  # one before the floored time too
            return False
        lookup.loc[rows, "y"] += 1000
        return True

    _check(spec, _aux_later("lookup", "y"), earlier)


def _row_local_later(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
    """Everything but row i, and row i's post-prediction columns (d, v)."""
    others = np.arange(len(main)) != i
    main.loc[others, "x"] = rng.normal(size=others.sum()) * 100
    main.loc[others, "ts"] += pd.to_timedelta(rng.integers(0, 500, others.sum()), unit="m")
    main.loc[i, ["d", "v"]] = [999.0, -999.0]
    aux["lookup"]["y"] = rng.normal(size=len(aux["lookup"]))
    return True


def _row_input(column: str, change: Callable[[object], object]) -> Perturb:
    def perturb(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        main.loc[i, column] = change(main.loc[i, column])
        return True

    return perturb


def _static_lookup_world(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    main, aux = _world(rng)
    return main, {**aux, "lookup": pd.DataFrame({"k": ["a", "b", "c"], "t": DAY0, "y": [1.0, 2.0, 3.0]})}


@pytest.mark.parametrize(
    ("transforms", "earlier"),
    [
        (
            [
                {
                    "kind": "datetime_parts",
                    "time": {"column": "ts"},
                    "parts": ["hour", "minute", "day_of_year"],
                }
            ],
            _row_input("ts", lambda t: t + pd.Timedelta(hours=25, minutes=7)),
        ),
        (
            [{"kind": "expression", "name": "e", "expr": "x * 2 + abs(x) / (x - 10)"}],
            _row_input("x", lambda x: x + 1.5),
        ),
        (
            [{"kind": "bucket", "name": "b", "column": "x", "edges": [-0.5, 0, 0.5], "missing": "indicator"}],
            _row_input("x", lambda x: x + 5 if x < 0.5 else x - 5),
        ),
        (
            [{"kind": "lookup_join", "table": "lookup", "keys": ["k"], "columns": {"y": "y"}}],
            _row_input("k", lambda k: {"a": "b", "b": "c", "c": "a"}[k]),
        ),
    ],
    ids=["datetime_parts", "expression", "bucket", "lookup_join"],
)
def test_row_local_transforms_read_only_the_rows_own_known_columns(
    transforms: list, earlier: Perturb
) -> None:
    """(A static lookup: only its matching row matters; the other rows are rewritten freely.)"""

    def later(rng: np.random.Generator, main: pd.DataFrame, aux: dict, i: int, p: float) -> bool:
        _row_local_later(rng, main, aux, i, p)
        matching = aux["lookup"]["k"] == main.loc[i, "k"]
        aux["lookup"].loc[matching, "y"] = {"a": 1.0, "b": 2.0, "c": 3.0}[main.loc[i, "k"]]
        return True

    _check(lambda rng: transforms, later, earlier, world=_static_lookup_world)
