"""The Parquet IO managers with Spark DataFrames (the Spark engine end to end), on a local directory
and on a real moto S3 server over HTTP: a Spark output over a range of days is written by Spark as
one file per day (rows in ``_rid`` order; a day without rows gets an empty file), read back by the
pandas path unchanged, and read by Spark through a lazy input with the same row ids."""

import io
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster_aws.s3 import S3Resource

from ml_platform.io.s3 import S3ParquetIOManager
from ml_platform.io.spark_parquet import ROW_IN_DAY
from ml_platform.io.storage import LocalParquetIOManager, PartitionedParquet
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.transforms import RID
from ml_platform_tests.instances import local_instance
from ml_platform_tests.services import MotoS3, moto_s3, spark_session  # noqa: F401  (fixtures)

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")
RANGE = {ASSET_PARTITION_RANGE_START_TAG: "2024-01-01", ASSET_PARTITION_RANGE_END_TAG: "2024-01-04"}
SESSION: dict[str, Any] = {}


def expected_days() -> pd.DataFrame:
    """Days 1, 2 and 4 (3 has no rows), rows in a known order within each day."""
    rows = [(d, i) for d in ("2024-01-01", "2024-01-02", "2024-01-04") for i in range(7)]
    return pd.DataFrame(
        {
            "value": [float(10 * int(d[-1]) + i) for d, i in rows],
            "name": [f"{d}#{i}" for d, i in rows],
            PARTITION_COLUMN: [d for d, _ in rows],
        }
    )


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def by_spark(context: dg.AssetExecutionContext) -> Any:
    frame = expected_days()
    # shuffled on purpose: the writer must restore each day's order from _rid
    shuffled = frame.assign(**{RID: range(len(frame))}).sample(frac=1.0, random_state=3)
    return SESSION["spark"].createDataFrame(shuffled).repartition(3)


@dg.asset(
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"by_spark": dg.AssetIn(metadata={"lazy": True})},
)
def read_back(context: dg.AssetExecutionContext, by_spark: PartitionedParquet) -> pd.DataFrame:
    spark_rows = by_spark.spark(SESSION["spark"]).orderBy(RID).toPandas()
    context.add_output_metadata({"spark_rows": len(spark_rows)})
    SESSION["read"] = spark_rows
    return by_spark.read(by_spark.keys()).assign(value=lambda f: f["value"] * 2)


def _stores(kind: str, tmp_path, moto: MotoS3 | None) -> tuple[dict[str, Any], Any]:  # type: ignore[no-untyped-def]
    if kind == "local":
        return {"io_manager": LocalParquetIOManager(base_dir=str(tmp_path))}, None
    assert moto is not None
    bucket = moto.new_bucket()
    s3 = S3Resource(
        endpoint_url=moto.endpoint_url,
        aws_access_key_id=moto.access_key,
        aws_secret_access_key=moto.secret_key,
        region_name=moto.region,
    )
    return {"io_manager": S3ParquetIOManager(s3=s3, bucket=bucket, prefix="sp")}, (moto.client(), bucket)


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_spark_output_written_per_day_and_read_by_both_engines(
    kind: str,
    tmp_path,
    request,
    spark_session,  # noqa: F811
) -> None:
    SESSION["spark"] = spark_session
    moto = request.getfixturevalue("moto_s3") if kind == "s3" else None
    resources, s3 = _stores(kind, tmp_path, moto)
    with local_instance() as instance:
        result = dg.materialize([by_spark, read_back], resources=resources, instance=instance, tags=RANGE)
        assert result.success
        written = result.asset_materializations_for_node("by_spark")[0].metadata
        assert written["rows_written_by_spark"].value == 21

    def day_file(day: str) -> pd.DataFrame:
        if s3 is None:
            return pd.read_parquet(tmp_path / "by_spark" / f"{day}.parquet")
        client, bucket = s3
        return pd.read_parquet(
            io.BytesIO(client.get_object(Bucket=bucket, Key=f"sp/by_spark/{day}.parquet")["Body"].read())
        )

    expected = expected_days()
    for day in ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"):
        got = day_file(day)
        want = expected[expected[PARTITION_COLUMN] == day].reset_index(drop=True)
        assert list(got.columns) == ["value", "name", PARTITION_COLUMN]  # _rid and the day copy dropped
        pd.testing.assert_frame_equal(got, want, check_index_type=False)
    if s3 is None:
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # staging gone
    # the pandas path reads the Spark files unchanged; Spark reads them with the pandas row order
    pd.testing.assert_frame_equal(
        result.output_for_node("read_back"), expected.assign(value=expected["value"] * 2)
    )
    spark_rows = SESSION.pop("read")
    pd.testing.assert_frame_equal(
        spark_rows[["value", "name", PARTITION_COLUMN]], expected, check_dtype=False
    )
    assert spark_rows[RID].is_monotonic_increasing
    assert spark_rows.groupby(PARTITION_COLUMN)[ROW_IN_DAY].apply(list).tolist() == [list(range(7))] * 3
