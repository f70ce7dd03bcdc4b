"""The endpoint's input checks against a real MLflow signature (``mlflow.models.infer_signature`` on a
pandas frame, inputs made optional the way the pipelines do) and the prediction log on real files:
each kind of bad row is refused with the row and field named; the reader skips a torn last line."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema

from ml_platform.serving.prediction_log import PredictionLog, read_prediction_log
from ml_platform.serving.schema import Field, RequestError, fields_from_signature, validate_rows


@pytest.fixture(scope="module")
def fields() -> list[Field]:
    frame = pd.DataFrame(
        {
            "distance": np.array([100, 200], dtype="int64"),
            "wx_visib": [1.5, np.nan],
            "carrier": ["AA", "B6"],
            "cancelled": [False, True],
            "sched_at": pd.to_datetime(["2013-01-01 05:00", "2013-01-01 06:00"]),
            "seats": np.array([150, 180], dtype="int32"),
        }
    )
    inferred = infer_signature(frame, np.array([0.1, 0.9]))
    optional = {"wx_visib", "carrier", "seats"}
    inputs = Schema(
        [ColSpec(c.type, c.name, required=c.name not in optional) for c in inferred.inputs.inputs]
    )
    return fields_from_signature(ModelSignature(inputs=inputs, outputs=inferred.outputs))


def good(**changes: Any) -> dict[str, Any]:
    row = {
        "distance": 100,
        "wx_visib": 2.5,
        "carrier": "AA",
        "cancelled": False,
        "sched_at": "2013-01-01T05:00:00",
        "seats": 150,
    }
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


def refused(payload: Any, fields: list[Field], max_rows: int = 100) -> RequestError:
    with pytest.raises(RequestError) as info:
        validate_rows(payload, fields, max_rows)
    return info.value


def test_signature_fields_read_from_mlflow(fields: list[Field]) -> None:
    assert [(f.name, f.type, f.required) for f in fields] == [
        ("distance", "long", True),
        ("wx_visib", "double", False),
        ("carrier", "string", False),
        ("cancelled", "boolean", True),
        ("sched_at", "datetime", True),
        ("seats", "integer", False),
    ]
    with pytest.raises(ValueError, match="no column-based input signature"):
        fields_from_signature(None)


def test_good_rows_become_a_typed_frame_with_nulls_for_optional_fields(fields: list[Field]) -> None:
    frame = validate_rows(
        {"rows": [good(), good(wx_visib=None, carrier=...), good(distance=3.0, wx_visib=7)]}, fields, 10
    )
    assert list(frame.columns) == [f.name for f in fields]
    assert frame.dtypes.astype(str).to_dict() == {
        "distance": "int64",
        "wx_visib": "float64",
        "carrier": "object",
        "cancelled": "bool",
        "sched_at": "datetime64[ns]",
        "seats": "int32",
    }
    assert frame["distance"].tolist() == [100, 100, 3]
    assert math.isnan(frame["wx_visib"][1]) and frame["carrier"][1] is None
    assert frame["sched_at"][0] == pd.Timestamp("2013-01-01 05:00")
    aware = validate_rows([good(sched_at="2013-01-01T05:00:00+01:00")], fields, 10)
    assert aware["sched_at"][0] == pd.Timestamp("2013-01-01 04:00")  # read as UTC, naive


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (good(distance=...), "row 1, field 'distance': required but missing"),
        (good(distance=None), "row 1, field 'distance': required but null"),
        (good(colour="red"), "row 1, field 'colour': unknown field"),
        (good(distance="100"), "row 1, field 'distance': expected an integer (long), got '100' (str)"),
        (good(distance=1.5), "row 1, field 'distance': expected an integer (long), got 1.5 (float)"),
        (good(distance=True), "row 1, field 'distance': expected an integer (long), got True (bool)"),
        (good(distance=2**63), "row 1, field 'distance': 9223372036854775808 is out of range for long"),
        (good(seats=2**31), "row 1, field 'seats': 2147483648 is out of range for integer"),
        (good(seats=None), "row 1, field 'seats': null/missing is not accepted for integer inputs"),
        (good(wx_visib="clear"), "row 1, field 'wx_visib': expected a number (double), got 'clear' (str)"),
        (good(wx_visib=float("nan")), "row 1, field 'wx_visib': nan is not a finite number"),
        (good(wx_visib=float("inf")), "row 1, field 'wx_visib': inf is not a finite number"),
        (good(carrier=7), "row 1, field 'carrier': expected a string, got 7 (int)"),
        (good(cancelled="no"), "row 1, field 'cancelled': expected true or false, got 'no' (str)"),
        (good(sched_at="yesterday"), "row 1, field 'sched_at': 'yesterday' is not an ISO 8601 date-time"),
        ([1, 2], "row 1: is list, expected an object of fields"),
    ],
)
def test_each_bad_value_names_its_row_and_field(fields: list[Field], row: Any, expected: str) -> None:
    error = refused({"rows": [good(), row]}, fields)
    assert error.status == 422
    assert error.message.startswith(expected), error.message
    assert error.errors[0]["row"] == 1
    assert error.errors[0]["msg"].startswith(expected)


@pytest.mark.parametrize(
    ("payload", "status", "expected"),
    [
        ({"rows": []}, 422, "'rows' is empty"),
        ([], 422, "'rows' is empty"),
        ({}, 422, "the body has no 'rows'"),
        ({"rows": [good()], "model": "x"}, 422, "unknown key 'model' in the body"),
        ({"rows": {"distance": 1}}, 422, "'rows' is dict, expected a list of objects"),
        ("rows", 422, "the body is str"),
        ([good()] * 11, 413, "batch of 11 rows is larger than the limit of 10 rows"),
    ],
)
def test_bad_bodies_are_refused(fields: list[Field], payload: Any, status: int, expected: str) -> None:
    error = refused(payload, fields, max_rows=10)
    assert (error.status, error.message[: len(expected)]) == (status, expected)


def test_every_problem_is_listed_with_a_count(fields: list[Field]) -> None:
    error = refused([good(distance="a"), good(carrier=1, colour=2)], fields)
    assert error.message.endswith("(and 2 more)")
    assert [(e["row"], e["field"]) for e in error.errors] == [(0, "distance"), (1, "colour"), (1, "carrier")]
    assert error.body()["errors"] == error.errors


def test_prediction_log_round_trip_and_a_torn_last_line(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path)
    day = dt.datetime(2026, 3, 4, 23, 59, 59, tzinfo=dt.UTC)
    for n in range(3):
        log.append(
            {
                "request_id": f"r{n}",
                "received_at": day + dt.timedelta(seconds=n),  # r1, r2 land on the next day
                "model_name": "m",
                "model_version": "2",
                "rows": [{"distance": n}, {"distance": 10 + n}],
                "predictions": [[0.25, 0.75], [0.5, 0.5]],
            }
        )
    log.close()
    (path,) = (tmp_path / "date=2026-03-05").glob("*.jsonl")
    with path.open("ab") as f:  # a crash in the middle of the next write
        f.write(json.dumps({"request_id": "torn", "rows": [{"distance": 1}]}).encode()[:25])

    first = read_prediction_log(tmp_path, dt.date(2026, 3, 4))
    assert first["request_id"].tolist() == ["r0", "r0"] and first["distance"].tolist() == [0, 10]
    second = read_prediction_log(tmp_path, "2026-03-05")
    assert second["request_id"].tolist() == ["r1", "r1", "r2", "r2"]
    assert second["row"].tolist() == [0, 1, 0, 1]
    assert second["prediction"].tolist()[0] == [0.25, 0.75]
    assert str(second["received_at"].dt.tz) == "UTC"
    assert read_prediction_log(tmp_path, "2026-03-06").empty

    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]))  # corruption mid-file is an error
    with pytest.raises(ValueError, match=r"line 2 is not JSON"):
        read_prediction_log(tmp_path, "2026-03-05")
