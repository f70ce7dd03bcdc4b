"""Progress lines for long work (pure: a list-backed logger, no Dagster instance)."""

from __future__ import annotations

from ml_platform.pipeline.assets.progress import Progress, chunked


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)


def test_chunks_cover_everything_in_order() -> None:
    items = list(range(59))
    chunks = list(chunked(items))
    assert [x for c in chunks for x in c] == items
    assert len(chunks) == 10
    assert list(chunked([1])) == [[1]]


def test_progress_lines_name_done_total_elapsed_and_rate() -> None:
    log = Log()
    progress = Progress(log, "fetch flights", 4)
    progress.advance(2, 1000)
    progress.advance(2, 500)
    assert log.lines[0].startswith("fetch flights: 2/4 partitions (50%), 1,000 rows, ")
    assert log.lines[1].startswith("fetch flights: 4/4 partitions (100%), 1,500 rows, ")
    assert all(" s elapsed, " in line and line.endswith(" rows/s") for line in log.lines)
