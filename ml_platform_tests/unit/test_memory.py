"""ml_platform.ml.memory: heap pages freed by Python go back to the OS (glibc's malloc_trim)."""

from __future__ import annotations

import os

import pytest

from ml_platform.ml.memory import _malloc_trim, release_free_memory


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
