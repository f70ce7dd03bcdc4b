"""A long Spark build's progress in the step's log: a year at 100× runs for minutes in a handful of
Spark jobs, with nothing to show in Dagster's UI meanwhile. While a block runs, the jobs it starts
(tagged with a job group of their own) are polled through Spark's status tracker and a line is
logged whenever something moved and ``every`` seconds have passed: jobs done, the running stages'
tasks, the time so far."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

#: seconds between progress lines (a line is written only if something changed)
PROGRESS_SECONDS = 30.0
_GROUP = "spark.jobGroup.id"


def progress_line(what: str, jobs: list[Any], stages: list[Any], elapsed: float) -> str:
    """``jobs``/``stages``: Spark's ``SparkJobInfo``/``SparkStageInfo`` (or anything with their fields)."""
    done = sum(1 for j in jobs if str(j.status) == "SUCCEEDED")
    active = sum(1 for j in jobs if str(j.status) == "RUNNING")
    running = [
        f"stage {s.stageId} {s.numCompletedTasks}/{s.numTasks} tasks"
        + (f" ({s.numFailedTasks} failed)" if s.numFailedTasks else "")
        for s in sorted(stages, key=lambda s: s.stageId)
    ]
    minutes, seconds = divmod(int(elapsed), 60)
    return (
        f"{what}: Spark jobs {done} done, {active} running"
        + (f": {', '.join(running)}" if running else "")
        + f"; {minutes} min {seconds:02d} s"
    )


@contextlib.contextmanager
def spark_progress(
    session: Any, what: str, log: Callable[[str], None], every: float | None = None
) -> Iterator[None]:
    """Logs the progress of the Spark jobs this thread starts inside the block (see module), every
    ``every`` seconds (:data:`PROGRESS_SECONDS` when not given)."""
    interval = PROGRESS_SECONDS if every is None else every
    context = session.sparkContext
    group = f"ml_platform-{uuid.uuid4().hex[:12]}"
    previous = context.getLocalProperty(_GROUP)
    context.setLocalProperty(_GROUP, group)  # this thread's jobs only (PySpark pins threads)
    tracker = context.statusTracker()
    started = time.monotonic()
    stop = threading.Event()

    def poll() -> None:
        last = ""
        while not stop.wait(interval):
            jobs = [j for j in map(tracker.getJobInfo, tracker.getJobIdsForGroup(group)) if j]
            ours = {s for j in jobs if str(j.status) == "RUNNING" for s in j.stageIds}
            submitted = ours & set(tracker.getActiveStageIds())  # not the stages still waiting
            stages = [s for s in map(tracker.getStageInfo, sorted(submitted)) if s]
            line = progress_line(what, jobs, stages, time.monotonic() - started)
            if jobs and line.split(";")[0] != last:  # a job started, and something moved
                log(line)
                last = line.split(";")[0]

    watcher = threading.Thread(target=poll, name="spark-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        context.setLocalProperty(_GROUP, previous)
