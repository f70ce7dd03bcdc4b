"""Feature engine: pandas in-process, or Spark through dagster-pyspark (``spark.master``
configurable; ``local[2]`` on one machine). With a builder that has ``spark_frames``, the Spark
engine runs end to end: Spark reads the cleaned Parquet files and the IO manager has Spark write the
features (``build_frames``); other Spark builders take and return pandas (``build``). The spec's ``features.engine`` wins; otherwise the
environment's default. The Spark session is created lazily, so pandas runs never start a JVM."""

from collections.abc import Callable
from typing import Any, Literal

import dagster as dg
import pandas as pd
from dagster_pyspark import LazyPySparkResource
from pydantic import Field

from ml_platform.features.finish_spark import finish_features_spark
from ml_platform.features.processes import build_in_processes, process_count
from ml_platform.integrations.spark import PARTITION_MIB, session_of, size_shuffles, spark_config
from ml_platform.io.storage import PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import build_features, builder_for, builder_options, finish_features
from ml_platform.specs.models import PipelineSpec

Engine = Literal["pandas", "spark"]


class FeatureEngine(dg.ConfigurableResource):
    """Builds a pipeline's features with the engine its spec (or this environment) asks for."""

    default_engine: Engine = "pandas"
    spark: LazyPySparkResource
    processes: int = Field(
        default=0,
        ge=0,
        description="pandas engine: processes a large run's partitions are built in, for builders "
        "that declare parallel_partitions (0: the CPUs available, at most 8; 1: the step's own process)",
    )
    min_rows_per_process: int = Field(
        default=100_000,
        ge=1,
        description="a run is spread over processes only when each gets at least this many main rows "
        "(a worker's start costs about a second)",
    )
    spark_partition_mib: int = Field(
        default=PARTITION_MIB,
        ge=0,
        description="Spark: a build's shuffle partitions follow its input, one per this many MiB of "
        "Parquet read (at least two per core); 0 keeps the session's spark.sql.shuffle.partitions",
    )

    def engine_for(self, spec: PipelineSpec) -> Engine:
        engine = spec.features.engine or self.default_engine
        builder = builder_for(spec)
        if engine == "spark" and builder.spark is None and builder.spark_frames is None:
            if spec.features.engine == "spark":
                raise ValueError(
                    f"pipeline '{spec.name}': features.engine is 'spark' but builder "
                    f"'{spec.features.builder}' has no Spark implementation"
                )
            return "pandas"  # the environment's default does not apply to pandas-only builders
        return engine

    def session(self) -> Any:
        """The Spark session (started on first use)."""
        return session_of(self.spark, str(self.spark.spark_config.get("spark.master", "local")))

    def end_to_end(self, spec: PipelineSpec) -> bool:
        """Spark reads and writes the Parquet files itself (the builder has ``spark_frames``)."""
        return self.engine_for(spec) == "spark" and builder_for(spec).spark_frames is not None

    def size_shuffles(self, frame: Any, log: Callable[[str], None] = lambda _: None) -> int | None:
        """The session's shuffle partitions sized for the jobs over ``frame`` (its input files)."""
        return size_shuffles(frame, self.spark_partition_mib, log)

    def build_frames(
        self,
        spec: PipelineSpec,
        main: PartitionedParquet,
        aux: dict[str, PartitionedParquet],
        log: Callable[[str], None] = lambda _: None,
    ) -> Any:
        """Spark end to end: the run's cleaned files read by Spark, the builder's ``spark_frames``,
        the label and partition added; a lazy Spark DataFrame (with ``_rid``), nothing collected.
        Its shuffles are sized by the main table's files (``log`` says how many)."""
        builder = builder_for(spec)
        assert builder.spark_frames is not None
        session = self.session()
        main_frame = main.spark(session)
        self.size_shuffles(main_frame, log)
        built = builder.spark_frames(
            session, main_frame, {n: t.spark(session) for n, t in aux.items()}, builder_options(spec)
        )
        return finish_features_spark(spec, main_frame, built)

    def processes_for(self, spec: PipelineSpec, main: pd.DataFrame) -> int:
        """Processes the pandas engine builds ``main``'s partitions in (1: the step's own)."""
        if not builder_for(spec).parallel_partitions or PARTITION_COLUMN not in main:
            return 1
        partitions = main[PARTITION_COLUMN].nunique()
        return process_count(self.processes, len(main), partitions, self.min_rows_per_process)

    def build(self, spec: PipelineSpec, main: pd.DataFrame, aux: dict[str, pd.DataFrame]) -> pd.DataFrame:
        if self.engine_for(spec) == "pandas":
            processes = self.processes_for(spec, main)
            if processes <= 1:
                return build_features(spec, main, aux)
            builder = builder_for(spec)
            built = build_in_processes(builder.pandas, main, aux, builder_options(spec), processes)
            return finish_features(spec, main, built)
        builder = builder_for(spec)
        assert builder.spark is not None
        built = builder.spark(self.session(), main, aux, builder_options(spec))
        return finish_features(spec, main, built)


def feature_engine(
    default_engine: Engine = "pandas",
    spark_master: str = "local[2]",
    processes: int = 0,
    spark_partition_mib: int = PARTITION_MIB,
) -> FeatureEngine:
    return FeatureEngine(
        default_engine=default_engine,
        spark=LazyPySparkResource(spark_config=spark_config(spark_master)),
        processes=processes,
        spark_partition_mib=spark_partition_mib,
    )
