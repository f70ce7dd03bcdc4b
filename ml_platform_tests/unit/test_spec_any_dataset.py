"""Issue 14's table, row by row, on the pure parts (pydantic spec validation from real YAML files,
the cleaning rules, the label rules, sklearn's real estimator signatures): what a spec can now say
about time, labels, `isin` and estimators, and the errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from ml_platform.ml.cleaning import PARTITION_COLUMN, REASONS_COLUMN, clean_table
from ml_platform.ml.features import build_features
from ml_platform.ml.model_factory import pipeline_for
from ml_platform.specs import SpecError, load_spec
from ml_platform.specs.models import TableSpec, TimeSpec

WEATHER = Path(__file__).resolve().parents[2] / "datasets" / "seattle_weather" / "seattle_weather.yaml"


def base_spec(**changes: Any) -> dict[str, Any]:
    """A small classification spec with one ISO date column and a string label."""
    spec: dict[str, Any] = {
        "name": "visits",
        "task": "classification",
        "source": {"kind": "landing_dir", "options": {"path": "landing/visits"}},
        "partitioning": {"start": "2024-01-01", "end": "2024-01-20", "time": {"column": "day"}},
        "main_table": {
            "name": "visits",
            "table": "visits",
            "columns": {
                "day": {"dtype": "date"},
                "shop": {"dtype": "str"},
                "flag": {"dtype": "int", "isin": [0, 1]},
                "amount": {"dtype": "float", "ge": 0},
                "outcome": {"dtype": "str", "isin": ["yes", "no"]},
            },
        },
        "target": {"column": "outcome", "name": "bought", "positive_class": "yes"},
        "features": {"builder": "columns", "categorical": ["shop"], "numeric": ["flag", "amount"]},
        "estimator": {"kind": "hist_gradient_boosting", "params": {"max_iter": 20}},
        "training": {"window_partitions": 15, "holdout_partitions": 5},
        "gate": {"metric": "roc_auc", "min_value": 0.5},
    }
    for path, value in changes.items():
        node = spec
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return spec


def write(tmp_path: Path, spec: dict[str, Any], name: str = "visits.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def spec_error(tmp_path: Path, **changes: Any) -> str:
    path = write(tmp_path, base_spec(**changes))
    with pytest.raises(SpecError) as err:
        load_spec(path)
    text = str(err.value)
    assert "visits.yaml" in text  # every error names the file
    return text


# -- one date column instead of year/month/day; leaving it out is an error, not a silent fallback


def test_one_iso_date_column_is_the_time_and_the_wrong_day_check_applies(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, base_spec()))
    assert spec.partitioning.day_columns == ("day",)
    raw = pd.DataFrame(
        {
            "day": ["2024-01-02", "2024-01-03"],
            "shop": ["a", "b"],
            "flag": [0, 1],
            "amount": [1.0, 2.0],
            "outcome": ["yes", "no"],
            PARTITION_COLUMN: "2024-01-02",
        }
    )
    result = clean_table(raw, spec.main_table, partition="2024-01-02", time=spec.partitioning.time_spec)
    assert list(result.cleaned["day"]) == [pd.Timestamp("2024-01-02")]
    assert result.quarantine[REASONS_COLUMN].tolist() == [
        "day: not the partition's day: 2024-01-03 in partition 2024-01-02"
    ]


def test_no_time_field_and_no_year_month_day_columns_is_an_error(tmp_path: Path) -> None:
    text = spec_error(tmp_path, **{"partitioning.time": None})
    assert "partitioning.date_columns: main_table has no column(s) ['year', 'month']" in text
    assert "declare partitioning.time.column" in text


# -- a timezone-aware timestamp; the local day in a given zone


def test_aware_timestamps_are_cleaned_as_local_days_of_the_timezone() -> None:
    table = TableSpec(
        name="events", table="events", columns={"ts": {"dtype": "datetime"}, "v": {"dtype": "float"}}
    )
    time = TimeSpec(column="ts", timezone="America/New_York")
    raw = pd.DataFrame(
        {
            # 03:00 UTC on Jan 2nd is 22:00 on Jan 1st in New York; the naive one is local already
            "ts": [
                "2024-01-02T03:00:00Z",
                "2024-01-01T23:30:00+00:00",
                "2024-01-01 08:00",
                "2024-01-02T12:00Z",
            ],
            "v": [1.0, 2.0, 3.0, 4.0],
            PARTITION_COLUMN: "2024-01-01",
        }
    )
    result = clean_table(raw, table, partition="2024-01-01", time=time)
    assert result.cleaned["ts"].dtype == "datetime64[ns]"
    assert list(result.cleaned["ts"].astype(str)) == [
        "2024-01-01 22:00:00",
        "2024-01-01 18:30:00",
        "2024-01-01 08:00:00",
    ]
    (reason,) = result.quarantine[REASONS_COLUMN]
    assert reason == "ts: not the partition's day (America/New_York): 2024-01-02 in partition 2024-01-01"


def test_an_unknown_timezone_names_the_field(tmp_path: Path) -> None:
    text = spec_error(tmp_path, **{"partitioning.time": {"column": "day", "timezone": "Mars/Olympus"}})
    assert "partitioning.time" in text and "'Mars/Olympus' is not an IANA time zone" in text


# -- a date format


def test_day_first_format_reads_02_07_as_july_2nd_and_quarantines_what_does_not_match() -> None:
    table = TableSpec(name="t", table="t", columns={"d": {"dtype": "date"}})
    time = TimeSpec(column="d", format="%d/%m/%Y")
    raw = pd.DataFrame({"d": ["02/07/2016", "13/13/2016", "2016-07-02"], PARTITION_COLUMN: "2016-07-02"})
    result = clean_table(raw, table, partition="2016-07-02", time=time)
    assert list(result.cleaned["d"]) == [pd.Timestamp("2016-07-02")]
    assert sorted(result.quarantine[REASONS_COLUMN]) == [
        "d: not a valid time for format '%d/%m/%Y': '13/13/2016'",
        "d: not a valid time for format '%d/%m/%Y': '2016-07-02'",
    ]


def test_without_a_format_an_ambiguous_date_is_quarantined_not_read_month_first() -> None:
    table = TableSpec(name="t", table="t", columns={"d": {"dtype": "str"}})
    raw = pd.DataFrame({"d": ["02/07/2016"], PARTITION_COLUMN: "2016-02-07"})
    result = clean_table(raw, table, partition="2016-02-07", time=TimeSpec(column="d"))
    assert result.cleaned.empty
    assert result.quarantine[REASONS_COLUMN].tolist() == [
        "d: not a valid time for ISO 8601 (set partitioning.time.format): '02/07/2016'"
    ]


# -- features the builder does not produce: caught by validation, before any ingest


def test_a_feature_the_builder_does_not_produce_fails_validation(tmp_path: Path) -> None:
    text = spec_error(tmp_path, **{"features.numeric": ["flag", "amount", "month", "amout"]})
    assert "features.numeric: 'month'" in text
    assert "'amout' (did you mean 'amount'?)" in text
    assert "not produced by features.builder 'columns'" in text


def test_the_target_as_a_feature_is_refused(tmp_path: Path) -> None:
    text = spec_error(tmp_path, **{"features.categorical": ["shop", "outcome"]})
    assert "features.categorical: 'outcome' is the target column" in text


# -- a string label


def test_string_label_with_positive_class(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, base_spec()))
    main = pd.DataFrame(
        {
            "day": pd.to_datetime(["2024-01-01"] * 3),
            "shop": ["a", "b", "c"],
            "flag": [0, 1, 0],
            "amount": [1.0, 2.0, 3.0],
            "outcome": ["yes", "no", None],
            PARTITION_COLUMN: "2024-01-01",
        }
    )
    label = build_features(spec, main, {})["bought"]
    assert label.iloc[:2].tolist() == [1.0, 0.0] and pd.isna(label.iloc[2])


def test_greater_than_on_a_string_label_fails_validation_naming_the_field(tmp_path: Path) -> None:
    text = spec_error(tmp_path, **{"target.positive_class": None, "target.greater_than": 0.5})
    assert "target.greater_than needs a numeric column, but target.column 'outcome' (str) is not" in text


def test_positive_class_outside_the_columns_values_names_the_field(tmp_path: Path) -> None:
    text = spec_error(tmp_path, **{"target.positive_class": "Yes"})
    assert "target.positive_class: ['Yes'] not among target.column 'outcome' (str)'s isin values" in text


def test_two_classes_label_the_second_as_positive_and_unknown_values_name_column_and_field(
    tmp_path: Path,
) -> None:
    spec = load_spec(
        write(tmp_path, base_spec(**{"target.positive_class": None, "target.classes": ["no", "yes"]}))
    )
    main = pd.DataFrame(
        {"shop": ["a", "b"], "flag": [0, 1], "amount": [1.0, 2.0], "outcome": ["yes", "maybe"]}
    ).assign(**{PARTITION_COLUMN: "2024-01-01"})
    with pytest.raises(
        ValueError, match=r"target.column 'outcome' has value\(s\) \['maybe'\] not in target.classes"
    ):
        build_features(spec, main, {})


def test_regression_on_a_string_column_is_refused(tmp_path: Path) -> None:
    text = spec_error(
        tmp_path,
        task="regression",
        **{"target.positive_class": None, "gate": {"metric": "rmse", "max_value": 1}},
    )
    assert "task regression needs a numeric target, but target.column 'outcome' (str) is not" in text


# -- isin on an int column


def test_isin_on_an_int_column_takes_ints_and_checks_them(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, base_spec()))
    raw = pd.DataFrame(
        {
            "day": ["2024-01-01"] * 3,
            "shop": ["a", "b", "c"],
            "flag": [0, 1, 2],
            "amount": [1.0, 2.0, 3.0],
            "outcome": ["yes", "no", "no"],
            PARTITION_COLUMN: "2024-01-01",
        }
    )
    result = clean_table(raw, spec.main_table, partition="2024-01-01", time=spec.partitioning.time_spec)
    assert result.cleaned["flag"].tolist() == [0, 1]
    assert len(result.quarantine) == 1 and "flag: fails isin" in result.quarantine[REASONS_COLUMN].iloc[0]


def test_isin_values_of_another_dtype_are_refused(tmp_path: Path) -> None:
    columns = base_spec()["main_table"]["columns"] | {"flag": {"dtype": "int", "isin": ["0", "1"]}}
    text = spec_error(tmp_path, **{"main_table.columns": columns})
    assert (
        "main_table.columns.flag" in text
        and "isin values ['0', '1'] are not of the column's dtype 'int'" in text
    )


# -- estimators: a parameter typo, and any sklearn class by import path


def test_an_estimator_parameter_typo_fails_validation(tmp_path: Path) -> None:
    text = spec_error(tmp_path, **{"estimator.params": {"max_iters": 20}})
    assert (
        "estimator.params.max_iters: not a parameter of "
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier "
        "(did you mean 'max_iter'?)"
    ) in text


def test_any_sklearn_class_by_import_path_with_validated_params(tmp_path: Path) -> None:
    estimator = {"class": "sklearn.linear_model.LogisticRegression", "params": {"C": 0.5}}
    spec = load_spec(write(tmp_path, base_spec(estimator=estimator)))
    assert spec.estimator.label == "sklearn.linear_model.LogisticRegression"
    assert type(pipeline_for(spec)[-1]).__name__ == "LogisticRegression"
    assert pipeline_for(spec)[-1].C == 0.5
    bad = {"class": "sklearn.linear_model.LogisticRegression", "params": {"c": 0.5}}
    assert "estimator.params.c: not a parameter" in spec_error(tmp_path, estimator=bad)
    missing = {"class": "sklearn.linear_model.NoSuchModel"}
    assert "estimator.class: module 'sklearn.linear_model' has no 'NoSuchModel'" in spec_error(
        tmp_path, estimator=missing
    )
    regressor = {"class": "sklearn.linear_model.Ridge"}
    assert "has no predict_proba, which classification needs" in spec_error(tmp_path, estimator=regressor)


# -- the shipped second example validates as written


def test_the_seattle_weather_example_validates() -> None:
    spec = load_spec(WEATHER)
    assert spec.partitioning.time_spec.format == "%Y/%m/%d"
    assert spec.target.positive_class == "sun"
    assert spec.estimator.class_path == "sklearn.linear_model.LogisticRegression"
