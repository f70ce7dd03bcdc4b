"""The bad-delivery corpus at the cleaning and reading layer (pure pandas/pandera, no Dagster): each
case ends in a clear error naming table, partition and source, or in a quarantine with reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ml_platform.ml.cleaning import PARTITION_COLUMN, REASONS_COLUMN, DataContractError, clean_table
from ml_platform.sources.landing_dir import LandingDirSource
from ml_platform.sources.retry import PermanentSourceError
from ml_platform_tests.bad_inputs import CORPUS
from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing

DAY = dt.date(2024, 1, 3)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_each_bad_delivery_gets_a_clear_error_or_a_quarantine(case: str, tmp_path: Path) -> None:
    write_synthetic_landing(tmp_path, days=5)
    table = synthetic_regression_spec(tmp_path).main_table
    file = tmp_path / "sales" / f"{DAY}.csv"
    good = len(LandingDirSource(path=str(tmp_path)).fetch_days("sales", DAY, DAY, ("year", "month", "day")))
    breaker, expected = CORPUS[case]
    file.write_bytes(breaker(file.read_bytes()))
    kind, _, text = expected.partition(": ")
    source = LandingDirSource(path=str(tmp_path), max_retries=0)
    try:
        raw = source.fetch_days("sales", DAY, DAY, ("year", "month", "day"))
    except PermanentSourceError as exc:
        assert kind == "error" and text in str(exc) and str(file) in str(exc) and str(DAY) in str(exc)
        return
    from ml_platform.pipeline.assets.cleaning import _source_of

    call = lambda: clean_table(  # noqa: E731
        raw,
        table,
        partition=str(DAY),
        source=_source_of(raw),
        date_columns=("year", "month", "day"),
        require_rows=True,
    )
    if kind == "error":
        with pytest.raises(DataContractError) as err:
            call()
        assert text in str(err.value) and str(DAY) in str(err.value)
        assert str(file.resolve().as_uri()) in str(err.value)  # the file, even without rows
        return
    result = call()
    assert len(result.cleaned) + len(result.quarantine) == len(raw)  # nothing lost
    if kind in ("quarantine", "tolerated"):
        assert len(result.quarantine) > 0
        assert result.quarantine[REASONS_COLUMN].str.contains(text, regex=False).all()
        assert set(result.quarantine[PARTITION_COLUMN]) == {str(DAY)}
    elif kind == "extra":
        assert result.unexpected_columns == [text] and len(result.cleaned) == good
    else:  # "ok" and "check" (volume / target checks need the previous days: see the assets layer)
        assert result.quarantine.empty and len(result.cleaned) > 0


def test_truncated_parquet_is_a_permanent_read_error(tmp_path: Path) -> None:
    write_synthetic_landing(tmp_path, days=5)
    import pandas as pd

    frame = pd.read_csv(tmp_path / "sales" / f"{DAY}.csv")
    (tmp_path / "sales" / f"{DAY}.csv").unlink()
    data = frame.to_parquet(index=False)
    (tmp_path / "sales" / f"{DAY}.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(PermanentSourceError, match=rf"day {DAY}.*cannot read {DAY}.parquet"):
        LandingDirSource(path=str(tmp_path)).fetch_days("sales", DAY, DAY, ("year", "month", "day"))
