"""Feature engine: pandas in-process, or Spark through dagster-pyspark (``spark.master``
configurable; ``local[2]`` on one machine). The spec's ``features.engine`` wins; otherwise the
environment's default. The Spark session is created lazily, so pandas runs never start a JVM."""

from typing import Literal

import dagster as dg
import pandas as pd
from dagster_pyspark import LazyPySparkResource

from ml_platform.integrations.spark import spark_config
from ml_platform.ml.features import build_features, builder_for, builder_options, finish_features
from ml_platform.specs.models import PipelineSpec

Engine = Literal["pandas", "spark"]


class FeatureEngine(dg.ConfigurableResource):
    """Builds a pipeline's features with the engine its spec (or this environment) asks for."""

    default_engine: Engine = "pandas"
    spark: LazyPySparkResource

    def engine_for(self, spec: PipelineSpec) -> Engine:
        engine = spec.features.engine or self.default_engine
        if engine == "spark" and builder_for(spec).spark is None:
            if spec.features.engine == "spark":
                raise ValueError(
                    f"pipeline '{spec.name}': features.engine is 'spark' but builder "
                    f"'{spec.features.builder}' has no Spark implementation"
                )
            return "pandas"  # the environment's default does not apply to pandas-only builders
        return engine

    def build(self, spec: PipelineSpec, main: pd.DataFrame, aux: dict[str, pd.DataFrame]) -> pd.DataFrame:
        if self.engine_for(spec) == "pandas":
            return build_features(spec, main, aux)
        builder = builder_for(spec)
        assert builder.spark is not None
        built = builder.spark(self.spark.spark_session, main, aux, builder_options(spec))
        return finish_features(spec, main, built)


def feature_engine(default_engine: Engine = "pandas", spark_master: str = "local[2]") -> FeatureEngine:
    return FeatureEngine(
        default_engine=default_engine, spark=LazyPySparkResource(spark_config=spark_config(spark_master))
    )
