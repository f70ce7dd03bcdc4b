"""Feature engine: pandas in-process, or Spark through dagster-pyspark (``spark.master``
configurable; ``local[2]`` on one machine). The spec's ``features.engine`` wins; otherwise the
environment's default. The Spark session is created lazily, so pandas runs never start a JVM."""

from typing import Any, Literal

import dagster as dg
import pandas as pd
from dagster_pyspark import LazyPySparkResource

from ml_platform.ml.features import build_features, finish_features
from ml_platform.ml.flights_features_spark import build_flight_features_spark
from ml_platform.specs.models import PipelineSpec

Engine = Literal["pandas", "spark"]


def spark_config(master: str = "local[2]", **extra: str) -> dict[str, str]:
    """Session settings for feature builds: quiet, loopback-bound when local, Arrow transfers."""
    config = {
        "spark.master": master,
        "spark.app.name": "ml_platform_features",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
    }
    if master.startswith("local"):
        config["spark.driver.bindAddress"] = "127.0.0.1"
        config["spark.driver.host"] = "127.0.0.1"
    return {**config, **extra}


def _spark_flights(
    session: Any, main: pd.DataFrame, aux: dict[str, pd.DataFrame], options: dict
) -> pd.DataFrame:
    return build_flight_features_spark(
        session, main, aux["weather"], aux["planes"], lead_minutes=int(options.get("lead_minutes", 0))
    )


SPARK_BUILDERS = {"flights": _spark_flights}


class FeatureEngine(dg.ConfigurableResource):
    """Builds a pipeline's features with the engine its spec (or this environment) asks for."""

    default_engine: Engine = "pandas"
    spark: LazyPySparkResource

    def engine_for(self, spec: PipelineSpec) -> Engine:
        engine = spec.features.engine or self.default_engine
        if engine == "spark" and spec.features.builder not in SPARK_BUILDERS:
            if spec.features.engine == "spark":
                raise ValueError(
                    f"pipeline '{spec.name}': features.engine is 'spark' but builder "
                    f"'{spec.features.builder}' has no Spark implementation (have: {sorted(SPARK_BUILDERS)})"
                )
            return "pandas"  # the environment's default does not apply to pandas-only builders
        return engine

    def build(self, spec: PipelineSpec, main: pd.DataFrame, aux: dict[str, pd.DataFrame]) -> pd.DataFrame:
        if self.engine_for(spec) == "pandas":
            return build_features(spec, main, aux)
        built = SPARK_BUILDERS[spec.features.builder](
            self.spark.spark_session, main, aux, dict(spec.features.options)
        )
        return finish_features(spec, main, built)


def feature_engine(default_engine: Engine = "pandas", spark_master: str = "local[2]") -> FeatureEngine:
    return FeatureEngine(
        default_engine=default_engine, spark=LazyPySparkResource(spark_config=spark_config(spark_master))
    )
