"""Issue 14 rows that had no test failing on the old behaviour (see docs/issue14_audit.md): identical
rows as a counted reason in the quarantine check's own text, a tz-aware *dtype* time column (Parquet)
cleaned as local days, and the model card naming an estimator given by import path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ml_platform.ml import data_checks as dc
from ml_platform.ml.cleaning import PARTITION_COLUMN, REASONS_COLUMN, clean_table
from ml_platform.ml.model_card import model_card
from ml_platform.specs import load_spec
from ml_platform.specs.models import ChecksSpec, TableSpec, TimeSpec

WEATHER = Path(__file__).resolve().parents[2] / "datasets" / "seattle_weather" / "seattle_weather.yaml"
TABLE = TableSpec.model_validate(
    {"name": "t", "table": "t", "columns": {"ts": {"dtype": "datetime"}, "v": {"dtype": "float"}}}
)


def test_identical_rows_show_in_the_quarantine_check_with_their_count() -> None:
    day = "2024-01-01"
    rows = pd.DataFrame({"ts": [f"{day}T0{h}:00" for h in range(5)], "v": [1.0, 2.0, 3.0, 4.0, 5.0]})
    raw = pd.concat([rows, rows.head(2)], ignore_index=True).assign(**{PARTITION_COLUMN: day})
    result = clean_table(raw, TABLE, time=TimeSpec(column="ts"))
    stats = dc.partition_stats({day: len(raw)}, result.cleaned, result.quarantine, None)
    reports = dc.evaluate([day], stats, {}, ChecksSpec(), None, dc.quarantine_reasons(result.quarantine))
    assert reports[dc.QUARANTINE_SHARE].failures[day] == (  # was "0 of 7 rows quarantined (0.00%)"
        "2 of 7 rows quarantined (28.57%): duplicate row: identical to a kept row (2)"
    )
    kept = clean_table(raw, TABLE.model_copy(update={"duplicates": "keep"}), time=TimeSpec(column="ts"))
    assert len(kept.cleaned) == 7 and kept.duplicate_rows == 2 and kept.quarantine.empty


def test_a_tz_aware_dtype_time_column_is_cleaned_as_local_days() -> None:
    # what a Parquet delivery holds: datetime64[ns, UTC], not text (was a DataContractError on dtype)
    stamps = pd.Series(
        pd.to_datetime(["2024-01-02T03:00Z", "2024-01-01T12:00Z", "2024-01-02T12:00Z"], utc=True)
    )
    raw = pd.DataFrame({"ts": stamps, "v": [1.0, 2.0, 3.0], PARTITION_COLUMN: "2024-01-01"})
    result = clean_table(raw, TABLE, time=TimeSpec(column="ts", timezone="America/New_York"))
    assert result.cleaned["ts"].astype(str).tolist() == ["2024-01-01 22:00:00", "2024-01-01 07:00:00"]
    assert result.quarantine[REASONS_COLUMN].tolist() == [
        "ts: not the partition's day (America/New_York): 2024-01-02 in partition 2024-01-01"
    ]


def test_the_model_card_names_an_estimator_given_by_import_path() -> None:
    spec = load_spec(WEATHER)
    metrics = {"n": 30.0, "roc_auc": 0.8}
    report = {
        "model_name": spec.model_name,
        "challenger_version": "1",
        "holdout_window": "2015-04-01..2015-04-30",
        "metrics": {"challenger": metrics, "baseline": {**metrics, "roc_auc": 0.5}},
        "ci": {},
    }
    card = model_card(spec, report, True, ["no champion yet"])
    assert f"- Estimator: `sklearn.linear_model.LogisticRegression`, params `{spec.estimator.params}`" in card
