"""Hand freed memory back to the OS before a large allocation.

Two allocators keep pages they no longer use: Arrow's pool (mimalloc), into which a pandas frame
converted from Arrow frees its columns, and glibc's heap, which keeps what a long process (a
year's ingest followed by training in one `execute_in_process`) freed in its arenas. Neither shows
as Python objects, both count as resident memory. At 30× the flights this was gigabytes
(docs/performance.md, section 9).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import functools
import gc
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)  # glibc only (not musl, not macOS)
    return trim


def release_free_memory() -> None:
    """Return Arrow's unused pool pages and glibc's free heap pages to the OS (a no-op elsewhere)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_frozen_depth = 0


@contextlib.contextmanager
def collector_spared() -> Iterator[None]:
    """Inside: the cyclic garbage collector leaves alone what was alive on entry (the loaded
    definitions, modules, the run's instance: some 300k objects in a run worker) and runs gen 0 at
    10,000 new objects instead of 700. A full collection walks every tracked object, so in a
    process that heavy holds gen 2 collections cost 0.2 s each; a data step makes a dozen. On exit
    the cycles made inside are collected (cheaply: what was alive on entry is still frozen), then
    the freeze is undone (``gc.unfreeze``): nothing alive on entry is kept longer than it would have
    been, and nothing made inside waits in gen 2 for a full collection that a process holding
    that much rarely runs. Reference counting frees everything as usual; only cycles wait until
    the exit. Nested uses share one freeze."""
    global _frozen_depth
    if _frozen_depth:
        _frozen_depth += 1
        try:
            yield
        finally:
            _frozen_depth -= 1
        return
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 10_000), thresholds[1], max(thresholds[2], 100))
    _frozen_depth = 1
    try:
        yield
    finally:
        _frozen_depth = 0
        gc.set_threshold(*thresholds)
        gc.collect()
        gc.unfreeze()


_exit_registered = False


def quick_exit_collection() -> None:
    """For a program's entry point (the CLI, the bench's Dagster path), never a library import:
    at interpreter exit, after every atexit handler registered later, collect the garbage once (its
    finalizers run as usual), then freeze what is still alive, so the shutdown's own collections
    do not walk it again and again. A process that loaded Dagster, MLflow and scikit-learn holds
    ~1.5 M tracked objects: its finalization spent 2.0–2.6 s in the collector (one collection
    here: 0.5 s). What is alive at exit is torn down by reference counting as before; only cycles
    among the live objects are left to the OS, as for any object alive when a process ends."""
    global _exit_registered
    if not _exit_registered:
        atexit.register(_collect_and_freeze)
        _exit_registered = True


def _collect_and_freeze() -> None:
    gc.collect()
    gc.freeze()


F = TypeVar("F", bound=Callable[..., Any])


def spare_collector(fn: F) -> F:
    """``fn`` (a function or a generator function, e.g. an asset's compute function) run inside
    :func:`collector_spared`; its signature is kept, so Dagster sees the same parameters."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generate(*args: Any, **kwargs: Any) -> Any:
            with collector_spared():
                yield from fn(*args, **kwargs)

        return cast(F, generate)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        with collector_spared():
            return fn(*args, **kwargs)

    return cast(F, call)
