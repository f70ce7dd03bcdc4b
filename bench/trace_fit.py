"""RSS trace of the training fit at scale without a scaled ingest: the features of a 1× home (one
`python -m bench.dagster_path ingest --home DIR`) replicated ``--copies`` times, then the stages of
``fit_lean`` with the resident set sampled every 20 ms.

    python -m bench.trace_fit --home DIR [--copies 30]
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from flights_delay import SPEC_DIR

from ml_platform.ml.memory import release_free_memory
from ml_platform.ml.model_factory import pipeline_for
from ml_platform.specs import load_spec


def _rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e9


class Trace:
    def __init__(self) -> None:
        self.peak = _rss_gb()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, _rss_gb())
            time.sleep(0.02)

    def mark(self, stage: str) -> None:
        print(f"| {stage} | {_rss_gb():.2f} GB | {self.peak:.2f} GB |", flush=True)
        self.peak = _rss_gb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=30)
    args = parser.parse_args()
    spec = load_spec(SPEC_DIR / "flights_delay.yaml", {})
    label, cols = spec.target.name, spec.features.model_columns
    files = sorted((args.home / "storage" / spec.name / "features").glob("*.parquet"))[:300]
    table = pa.concat_tables([pq.read_table(f, columns=[*cols, label]) for f in files])
    table = pa.concat_tables([table.filter(pc.is_valid(table[label]))] * args.copies).combine_chunks()
    trace = Trace()
    print(f"{table.num_rows:,} rows\n\n| stage | RSS after | peak during |\n|---|---|---|")
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    release_free_memory()
    trace.mark("frame (Arrow → pandas)")
    y = frame.pop(label).to_numpy()
    model = pipeline_for(spec)
    with pd.option_context("mode.copy_on_write", True):
        matrix = model[:-1].fit_transform(frame, y)
    trace.mark(f"preprocessing → {matrix.shape} {matrix.dtype}")
    del frame
    release_free_memory()
    trace.mark("frame released")
    model.steps[-1][1].fit(matrix, y)
    trace.mark("estimator fit")


if __name__ == "__main__":
    main()
