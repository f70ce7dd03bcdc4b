"""Interleaved A/B of two commits on the 1× Dagster path: one new day (2013-12-31 into a home holding
the rest of the year, in-process seconds) and a full cold build (wall seconds), alternating between
the two trees run by run. The base commit is checked out as a git worktree and run with this
interpreter, its tree first on ``PYTHONPATH``.

    python -m bench.ab --base REV [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

import bench.run as run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="the commit to compare the working tree with")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    here = run.ROOT
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=here, check=True)
        try:
            print(json.dumps(compare({"base": base, "head": here}, Path(tmp), args.repeats), indent=1))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=here, check=True)


def compare(roots: dict[str, Path], tmp: Path, repeats: int) -> dict[str, dict[str, object]]:
    runs: dict[str, dict[str, list[float]]] = {side: {"day": [], "full": []} for side in roots}
    for side, root in roots.items():  # a home holding the year but its last day, built by that side
        run.ROOT = root
        run.measure(
            [run.PY, "-m", "bench.dagster_path", "ingest", "--home", str(tmp / side), "--end", "2013-12-30"]
        )
    for _ in range(repeats):
        for side, root in roots.items():
            run.ROOT = root
            day = run.measure(
                [run.PY, "-m", "bench.dagster_path", "ingest", "--home", str(tmp / side)]
                + ["--start", "2013-12-31", "--end", "2013-12-31"]
            )
            runs[side]["day"].append(float(day["seconds_ingest"]))
            with tempfile.TemporaryDirectory(prefix="bench-ab-full-") as fresh:
                full = run.measure([run.PY, "-m", "bench.dagster_path", "full", "--home", fresh])
            runs[side]["full"].append(float(full["wall"]))
    return {
        side: {f"{k}_median": statistics.median(v) for k, v in figures.items()} | {"runs": figures}
        for side, figures in runs.items()
    }


if __name__ == "__main__":
    main()
