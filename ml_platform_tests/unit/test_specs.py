"""Spec validation (pure pydantic; no Dagster runs): the bundled spec, clear errors, a second spec."""

import pytest
from flights_delay import SPEC_DIR

from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform.specs import SpecError, bundled_specs, load_spec
from ml_platform_tests.helpers import synthetic_regression_spec


def test_bundled_flights_spec_is_valid() -> None:
    (spec,) = bundled_specs()
    assert spec.name == "flights_delay"
    assert spec.task == "classification"
    assert spec.training.window_partitions + spec.training.holdout_partitions == 365
    assert set(spec.features.categorical) <= set(spec.features.model_columns)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"task": "clustering"}, "task"),
        ({"gate": {"min_value": None, "max_value": None}}, "exactly one of min_value"),
        ({"gate": {"metric": "rmse"}}, "lower-is-better"),
        ({"training": {"window_partitions": 400}}, "partitioning has 365"),
        ({"target": {"column": "nope"}}, "target.column 'nope'"),
        ({"partitioning": {"end": "2012-01-01"}}, "before partitioning.start"),
        ({"estimator": {"kind": "xgboost"}}, "estimator.kind"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_specs_name_file_and_field(override: dict, message: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(SPEC_DIR / "flights_delay.yaml", override)
    text = str(err.value)
    assert "flights_delay.yaml" in text
    assert message in text


def test_unreadable_spec_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="broken.yaml: a spec must be a YAML mapping"):
        load_spec(bad)


def test_second_spec_builds_its_own_prefixed_assets(tmp_path) -> None:
    spec = synthetic_regression_spec(tmp_path)
    defs = build_definitions([spec], local_environment(tmp_path / "home"))
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "synthetic_demand/raw_sales" in keys
    assert "synthetic_demand/model" in keys
    assert not any(k.startswith("flights_delay") or "weather" in k for k in keys)
