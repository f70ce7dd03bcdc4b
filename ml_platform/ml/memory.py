"""Hand freed memory back to the OS before a large allocation.

Two allocators keep pages they no longer use: Arrow's pool (mimalloc), into which a pandas frame
converted from Arrow frees its columns, and glibc's heap, which keeps what a long process (a
year's ingest followed by training in one `execute_in_process`) freed in its arenas. Neither shows
as Python objects, both count as resident memory. At 30× the flights this was gigabytes
(docs/performance.md, section 9).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


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
