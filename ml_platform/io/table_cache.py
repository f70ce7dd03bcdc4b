"""Decoded Parquet partitions kept in memory, so a table this process wrote or read is not decoded
again from its file (a cold build reads each year of per-day files back one step later, and
training reads its window three times).

Only local files: an entry is keyed by the path and the identity of the file whose bytes it holds
(inode, size, modification time, taken from the open file itself), so a file replaced by any
process (every write is a temp file + rename, a new inode) or removed is a miss, never stale data.
Bounded: least recently used entries go first once ``TABLE_CACHE_BYTES`` of Arrow memory is held,
so a window larger than that is read as before, from its files. Tables are immutable Arrow tables:
what a reader gets equals what decoding the file gives (``unit/test_table_cache.py``).
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pyarrow as pa

#: Arrow bytes held at most, per process (a cold 1x build's raw, cleaned and features tables fit).
TABLE_CACHE_BYTES = 384 * 1024 * 1024


class FileIdentity(NamedTuple):
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileIdentity:
        return cls(stat.st_ino, stat.st_size, stat.st_mtime_ns)


class TableCache:
    """Path → (file identity, Arrow table), least recently used first out; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[FileIdentity, pa.Table, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get(self, path: Path, columns: Sequence[str] | None = None) -> pa.Table | None:
        """The table of ``path`` as it is on disk now (``columns`` of it), or None."""
        key = str(path)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        try:
            current = FileIdentity.of(os.stat(key))
        except OSError:
            current = None
        identity, table, _ = entry
        if current != identity:
            self._drop(key, entry)
            return None
        if columns is not None and not set(columns) <= set(table.column_names):
            return None
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
        return table.select(list(columns)) if columns is not None else table

    def put(self, path: Path, identity: FileIdentity, table: pa.Table) -> None:
        size = table.nbytes
        if size > self.max_bytes:
            return
        key = str(path)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (identity, table, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, _, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def discard(self, paths: Sequence[Path]) -> None:
        """Forget the tables of ``paths`` (those held)."""
        with self._lock:
            for key in map(str, paths):
                entry = self._entries.pop(key, None)
                if entry is not None:
                    self._bytes -= entry[2]

    def _drop(self, key: str, entry: tuple[FileIdentity, pa.Table, int]) -> None:
        with self._lock:
            if self._entries.get(key) is entry:
                del self._entries[key]
                self._bytes -= entry[2]


TABLES = TableCache(TABLE_CACHE_BYTES)


def read_local_table(path: Path, columns: Sequence[str] | None) -> pa.Table:
    """``columns`` of the local Parquet file ``path``, from the cache or decoded (then cached)."""
    import pyarrow.parquet as pq

    cached = TABLES.get(path, columns)
    if cached is not None:
        return cached
    with open(path, "rb") as fh:
        identity = FileIdentity.of(os.fstat(fh.fileno()))
        data = fh.read()
    table = pq.read_table(io.BytesIO(data), columns=list(columns) if columns is not None else None)
    TABLES.put(path, identity, table)
    return table


def write_local_file(path: Path, data: bytes, table: pa.Table | None = None) -> None:
    """``data`` to ``path`` atomically (temp file + rename); ``table``, the decoded ``data``, cached."""
    import uuid

    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        fh = open(tmp, "wb")  # noqa: SIM115 - closed below; the folder made only when missing
    except FileNotFoundError:  # (a year of days is 2,190 files, in folders that mostly exist)
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(tmp, "wb")  # noqa: SIM115
    with fh:
        fh.write(data)
        fh.flush()
        identity = FileIdentity.of(os.fstat(fh.fileno()))
    os.replace(tmp, path)
    if table is not None:
        TABLES.put(path, identity, table)
