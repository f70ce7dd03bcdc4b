"""A run's partitions built in several processes (pandas engine, builders that declare
``parallel_partitions``): the main table is cut into pieces of whole, consecutive partitions, each
piece built by the builder's pandas function with the whole auxiliary tables (the first in the
step's own process while the workers start, each other in a worker process), and the pieces put
back in the main table's row order. Same values as one pass, since such a builder's features of a
partition depend only on that partition's rows (and the auxiliary tables).

Workers are started with ``spawn`` (never ``fork``: a run worker holds threads, and a forked child
can inherit a lock another thread held), so each pays its own imports (~1 s); a run is spread only
when its main table has at least ``min_rows`` rows per process. A spawned child imports the
parent's ``__main__`` unless it is a package's ``__main__`` (``python -m dagster``, how Dagster
starts code servers and so run workers) or a ``-c`` command: nothing heavy in either."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import PandasBuild

MAX_PROCESSES = 8
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def available_cpus(cpu_max: str = CGROUP_CPU_MAX) -> int:
    """CPUs this process may use: its CPU affinity, lowered to a container's CPU quota (cgroup v2
    ``cpu.max``, e.g. a Kubernetes limit), which affinity does not show."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = open(cpu_max).read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus


def process_count(requested: int, rows: int, partitions: int, min_rows: int) -> int:
    """How many processes to build ``rows`` rows of ``partitions`` partitions in: ``requested``
    (0: the available CPUs), no more than there are partitions or ``min_rows``-row shares."""
    wanted = requested if requested > 0 else min(available_cpus(), MAX_PROCESSES)
    return max(1, min(wanted, partitions, rows // max(min_rows, 1)))


def partition_pieces(labels: pd.Series, pieces: int) -> list[np.ndarray]:
    """Row positions of ``pieces`` runs of whole, consecutive partitions with about as many rows
    each (``labels``: each row's partition key, rows grouped by partition as the store reads them)."""
    values = labels.to_numpy()
    if len(values) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])  # where a partition begins
    bounds = [0]
    for i in range(1, pieces):
        share = len(values) * i / pieces
        cut = int(np.searchsorted(starts, share))  # the partition start nearest the share
        near = [int(starts[j]) for j in (cut - 1, cut) if 0 <= j < len(starts)]
        position = min(near, key=lambda p: abs(p - share))
        if position > bounds[-1]:
            bounds.append(position)
    bounds.append(len(values))
    return [np.arange(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _grouped(labels: pd.Series) -> bool:
    """Every partition's rows are contiguous (so pieces of consecutive rows hold whole partitions)."""
    values = labels.to_numpy()
    changes = int((values[1:] != values[:-1]).sum()) if len(values) else 0
    return changes + 1 == labels.nunique() if len(values) else True


def _build_piece(
    build: PandasBuild, main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]
) -> pd.DataFrame:
    return build(main, aux, options)


def build_in_processes(
    build: PandasBuild,
    main: pd.DataFrame,
    aux: Mapping[str, pd.DataFrame],
    options: Mapping[str, Any],
    processes: int,
) -> pd.DataFrame:
    """``build(main, aux, options)`` with ``main`` cut into ``processes`` pieces of whole partitions:
    the first built in this process, each other in a worker of its own; the builder's rows come
    back aligned with ``main``'s index."""
    labels = main[PARTITION_COLUMN]
    if processes <= 1 or not _grouped(labels):
        return build(main, aux, options)
    pieces = partition_pieces(labels, processes)
    if len(pieces) <= 1:
        return build(main, aux, options)
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=len(pieces) - 1, mp_context=context) as pool:
            futures = [pool.submit(_build_piece, build, main.iloc[rows], aux, options) for rows in pieces[1:]]
            try:  # the first piece here, while the workers start (~0.7 s of imports each) and build
                first = build(main.iloc[pieces[0]], aux, options)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            built = [first, *(f.result() for f in futures)]
    except BrokenProcessPool as exc:
        first, last = labels.iloc[0], labels.iloc[-1]
        raise RuntimeError(
            f"a feature worker process died while building partitions {first}..{last} (out of "
            "memory?); run fewer partitions per run or set the feature_engine resource's "
            "processes: 1 to build in the step's own process"
        ) from exc
    return pd.concat(built)
