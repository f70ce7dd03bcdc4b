"""S3 Parquet/JSON IO managers round-trip through a real moto S3 server over HTTP (boto3 via
dagster-aws ``S3Resource``): one partition, a multi-partition single-run output, multi-partition
loads (with and without missing partitions), and JSON records."""

import dagster as dg
import pandas as pd
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster_aws.s3 import S3Resource

from ml_platform.io.s3 import S3JsonIOManager, S3ParquetIOManager
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform_tests.instances import local_instance
from ml_platform_tests.services import MotoS3, moto_s3  # noqa: F401  (fixture)

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")


def _frame(days: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            PARTITION_COLUMN: [d for d in days for _ in range(3)],
            "value": [float(i) for i in range(3 * len(days))],
            "name": [f"row{i}" for i in range(3 * len(days))],
        }
    )


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def daily(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return _frame(context.partition_keys)


@dg.asset(
    deps=[],
    ins={"daily": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    io_manager_key="json_io_manager",
)
def summary(daily: pd.DataFrame) -> dict:
    return {"rows": len(daily), "days": sorted(daily[PARTITION_COLUMN].unique().tolist())}


@dg.asset(
    ins={
        "daily": dg.AssetIn(
            partition_mapping=dg.AllPartitionMapping(), metadata={"allow_missing_partitions": True}
        )
    },
    io_manager_key="json_io_manager",
)
def tolerant_summary(daily: pd.DataFrame) -> dict:
    return {"rows": len(daily)}


@pytest.fixture(scope="module")
def world(moto_s3: MotoS3):  # noqa: F811
    bucket = moto_s3.new_bucket()
    s3 = S3Resource(
        endpoint_url=moto_s3.endpoint_url,
        aws_access_key_id=moto_s3.access_key,
        aws_secret_access_key=moto_s3.secret_key,
        region_name=moto_s3.region,
    )
    resources = {
        "io_manager": S3ParquetIOManager(s3=s3, bucket=bucket, prefix="it/storage"),
        "json_io_manager": S3JsonIOManager(s3=s3, bucket=bucket, prefix="it/storage"),
    }
    with local_instance() as instance:
        yield instance, resources, bucket, moto_s3.client()


def _keys(client, bucket: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_single_partition_and_missing_partition_errors(world) -> None:  # type: ignore[no-untyped-def]
    instance, resources, bucket, client = world
    result = dg.materialize([daily], partition_key="2024-01-01", resources=resources, instance=instance)
    assert result.success
    assert "it/storage/daily/2024-01-01.parquet" in _keys(client, bucket)
    meta = result.asset_materializations_for_node("daily")[0].metadata
    assert meta["path"].value == f"s3://{bucket}/it/storage/daily/2024-01-01.parquet"

    # Loading all partitions while four are missing fails and names the missing object.
    failed = dg.materialize(
        [daily, summary], selection=[summary], resources=resources, instance=instance, raise_on_error=False
    )
    assert not failed.success
    error = failed.get_step_failure_events()[0].event_specific_data.error  # type: ignore[union-attr]
    assert "2024-01-02" in str(error)

    tolerant = dg.materialize(
        [daily, tolerant_summary], selection=[tolerant_summary], resources=resources, instance=instance
    )
    assert tolerant.output_for_node("tolerant_summary") == {"rows": 3}


def test_multi_partition_single_run_output_then_multi_partition_load(world) -> None:  # type: ignore[no-untyped-def]
    instance, resources, bucket, client = world
    result = dg.materialize(
        [daily],
        resources=resources,
        instance=instance,
        tags={ASSET_PARTITION_RANGE_START_TAG: "2024-01-01", ASSET_PARTITION_RANGE_END_TAG: "2024-01-05"},
    )
    assert result.success
    written = [k for k in _keys(client, bucket) if k.startswith("it/storage/daily/")]
    assert written == [f"it/storage/daily/2024-01-0{d}.parquet" for d in range(1, 6)]

    # one object per day holds exactly that day's rows
    body = client.get_object(Bucket=bucket, Key="it/storage/daily/2024-01-03.parquet")["Body"].read()
    import io

    day3 = pd.read_parquet(io.BytesIO(body))
    expected = _frame([f"2024-01-0{d}" for d in range(1, 6)])
    expected = expected[expected[PARTITION_COLUMN] == "2024-01-03"].reset_index(drop=True)
    pd.testing.assert_frame_equal(day3, expected)

    loaded = dg.materialize([daily, summary], selection=[summary], resources=resources, instance=instance)
    assert loaded.output_for_node("summary") == {
        "rows": 15,
        "days": [f"2024-01-0{d}" for d in range(1, 6)],
    }
    # the JSON record itself round-trips through S3
    record = client.get_object(Bucket=bucket, Key="it/storage/summary.json")["Body"].read()
    assert b'"rows": 15' in record
