"""ml_platform.ml.memory: heap pages freed by Python go back to the OS (glibc's malloc_trim); the
cyclic collector spares what was alive when a heavy step began, and lets it go after."""

from __future__ import annotations

import gc
import inspect
import os
import weakref

import pytest

from ml_platform.ml.memory import _malloc_trim, collector_spared, release_free_memory, spare_collector


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(_malloc_trim() is None, reason="not glibc: malloc_trim is glibc's")
def test_release_returns_the_free_heap_that_glibc_keeps() -> None:
    # 300k blocks of 1 KB come from glibc's heap (pymalloc serves only <= 512 bytes); keeping the
    # last one pins the heap's top, so freeing the rest shrinks nothing until the heap is trimmed
    blocks = [bytes(1000) + i.to_bytes(4, "little") for i in range(300_000)]
    last = blocks.pop()
    del blocks
    before = _rss_bytes()
    release_free_memory()
    after = _rss_bytes()
    assert before - after > 150e6, f"RSS {before / 1e6:.0f} MB -> {after / 1e6:.0f} MB"
    assert last[-4:] == (299_999).to_bytes(4, "little")


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def _dropped_cycle() -> weakref.ref:
    node = _Node()
    return weakref.ref(node)


def test_the_collector_spares_what_was_alive_on_entry_and_frees_it_after() -> None:
    gc.collect()
    thresholds = gc.get_threshold()
    before = _dropped_cycle()  # unreachable garbage when the step begins
    with collector_spared():
        assert gc.get_freeze_count() > 1000 and gc.get_threshold()[0] >= 10_000
        inside = _dropped_cycle()
        gc.collect()
        assert before() is not None  # frozen: a full collection inside does not walk it
        assert inside() is None  # what the step makes is collected as usual
        with collector_spared():  # nested: one freeze, undone once
            pass
        assert gc.get_freeze_count() > 1000
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    gc.collect()
    assert before() is None  # nothing kept longer than it would have been


def test_cycles_made_inside_are_freed_on_exit_without_the_collector_running() -> None:
    """What the block left in cycles does not wait in gen 2 for a full collection: it is freed
    when the block ends, even with automatic collection off (an explicit collect of the young)."""
    gc.collect()
    gc.disable()
    try:
        with collector_spared():
            inside = _dropped_cycle()
            assert inside() is not None  # nothing collected it yet
        assert inside() is None
    finally:
        gc.enable()


def test_spare_collector_keeps_signature_and_generator_kind() -> None:
    def compute(context: object, raw: int, *, scale: float = 2.0) -> float:
        assert gc.get_freeze_count() > 0
        return raw * scale

    def outputs(context: object, raw: int):  # type: ignore[no-untyped-def]
        assert gc.get_freeze_count() > 0
        yield raw
        assert gc.get_freeze_count() > 0  # still spared while the consumer handled the first value
        yield raw + 1

    plain, gen = spare_collector(compute), spare_collector(outputs)
    assert inspect.signature(plain) == inspect.signature(compute) and not inspect.isgeneratorfunction(plain)
    assert inspect.isgeneratorfunction(gen) and inspect.signature(gen) == inspect.signature(outputs)
    assert plain(None, 3) == 6.0 and list(gen(None, 3)) == [3, 4]
    assert gc.get_freeze_count() == 0


def test_quick_exit_collects_garbage_then_freezes_the_rest_once() -> None:
    """At exit the garbage is still collected (a cycle's finalizer runs), then what is alive is
    frozen before the interpreter's own shutdown collections; registered once however often called."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import atexit, gc
        atexit.register(lambda: print("frozen at shutdown:", gc.get_freeze_count() > 1000, flush=True))
        from ml_platform.ml.memory import quick_exit_collection
        before = atexit._ncallbacks()
        quick_exit_collection()
        quick_exit_collection()
        print("handlers added:", atexit._ncallbacks() - before, flush=True)

        class Noted:
            def __del__(self):
                print("cycle finalized", flush=True)

        noted = Noted()
        noted.me = noted
        del noted
        gc.disable()
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["handlers added: 1", "cycle finalized", "frozen at shutdown: True"]
