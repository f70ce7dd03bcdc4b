"""A long Spark build says how far it is: real ``local[2]`` jobs, polled by Spark's status tracker."""

import re
import threading
import time

import pytest
from pyspark.core.status import SparkJobInfo, SparkStageInfo
from pyspark.sql import functions as F

from ml_platform.integrations.spark_progress import progress_line, spark_progress
from ml_platform_tests.services import spark_session  # noqa: F401  (fixture)


def test_a_line_says_jobs_done_running_stages_and_the_time() -> None:
    jobs = [SparkJobInfo(1, [], "SUCCEEDED"), SparkJobInfo(2, [], "RUNNING")]
    stages = [SparkStageInfo(9, 0, "save", 86, 2, 40, 1), SparkStageInfo(7, 0, "scan", 12, 1, 11, 0)]
    assert progress_line("features flights_delay", jobs, stages, 310.4) == (
        "features flights_delay: Spark jobs 1 done, 1 running: stage 7 11/12 tasks, "
        "stage 9 40/86 tasks (1 failed); 5 min 10 s"
    )
    assert progress_line("x", jobs[:1], [], 5) == "x: Spark jobs 1 done, 0 running; 0 min 05 s"


def _slow(x):  # no type hints: pyspark would take them for a pandas UDF's
    time.sleep(0.4)
    return x


LINE = re.compile(r"slow job: Spark jobs (\d) done, (\d) running(: stage \d+ (\d)/8 tasks)?; 0 min 0\d s")


def test_the_jobs_of_the_block_are_reported_while_they_run_and_only_they(spark_session) -> None:  # noqa: F811
    slow = F.udf(_slow, "long")
    frame = spark_session.range(0, 8, numPartitions=8).select(slow("id").alias("id"))
    said: list[str] = []
    before = spark_session.sparkContext.getLocalProperty("spark.jobGroup.id")
    with spark_progress(spark_session, "slow job", said.append, every=0.25):
        assert sorted(r.id for r in frame.collect()) == list(range(8))
        time.sleep(0.6)  # the last poll sees the job done
    after_block = len(said)
    frame.collect()  # outside the block: not reported
    time.sleep(0.6)
    assert len(said) == after_block
    assert spark_session.sparkContext.getLocalProperty("spark.jobGroup.id") == before

    assert len(said) >= 2, said
    assert said[0].startswith("slow job: Spark jobs 0 done, 1 running")  # nothing before a job started
    matches = [LINE.fullmatch(line) for line in said]
    assert all(matches), said
    running = [int(m.group(4)) for m in matches if m and m.group(4)]
    assert running and running == sorted(running)  # tasks done only grow while the stage runs
    assert said[-1].startswith("slow job: Spark jobs 1 done, 0 running; ")
    assert len(set(line.split(";")[0] for line in said)) == len(said)  # a line only when it moved


def test_a_failing_job_leaves_no_watcher_and_the_job_group_as_it_was(spark_session) -> None:  # noqa: F811

    def boom(x):  # no type hints: see _slow
        time.sleep(0.3)
        raise ValueError(f"bad row {x}")

    frame = spark_session.range(0, 4, numPartitions=4).select(F.udf(boom, "long")("id"))
    said: list[str] = []
    before = spark_session.sparkContext.getLocalProperty("spark.jobGroup.id")
    with pytest.raises(Exception, match="bad row"):  # the job's own error reaches the step
        with spark_progress(spark_session, "failing job", said.append, every=0.1):
            frame.collect()
    assert spark_session.sparkContext.getLocalProperty("spark.jobGroup.id") == before
    lines = len(said)
    time.sleep(0.4)
    assert len(said) == lines  # the watcher ended with the block
    assert all(line.startswith("failing job: Spark jobs 0 done") for line in said), said
    assert not [t for t in threading.enumerate() if t.name == "spark-progress"]
