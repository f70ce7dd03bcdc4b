"""The floor: the same work in one plain process with pandas and scikit-learn, no orchestrator,
no tracking. Reads the bundled (or scaled) files, cleans, builds the same features, trains the same
estimator and evaluates on the same time-based holdout, with the platform's own pure functions.

    python -m bench.floor [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import time

from flights_delay import SPEC_DIR
from flights_delay.source import Nycflights13Source

from bench.common import read_clean
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import build_features, labelled
from ml_platform.ml.model_factory import pipeline_for
from ml_platform.ml.windows import split_windows
from ml_platform.specs import load_spec


def run(data_dir: str | None) -> dict[str, float]:
    from ml_platform.ml.evaluation_report import build_report, score_candidates

    t0 = time.perf_counter()
    spec = load_spec(SPEC_DIR / "flights_delay.yaml")
    source = Nycflights13Source(data_dir=data_dir)
    start, end = spec.partitioning.start, spec.partitioning.end
    cleaned = read_clean(spec, source, start, end, [spec.main_table, *spec.auxiliary_tables])
    t_clean = time.perf_counter()
    main = cleaned.pop(spec.main_table.name)
    features = build_features(spec, main, cleaned)
    t_features = time.perf_counter()
    keys = sorted(features[PARTITION_COLUMN].unique())
    windows = split_windows(keys, spec.training.window_partitions, spec.training.holdout_partitions)
    train = labelled(spec, features[features[PARTITION_COLUMN].isin(windows.train)])
    cols = spec.features.model_columns
    model = pipeline_for(spec)
    model.fit(train[cols], train[spec.target.name])
    t_train = time.perf_counter()
    holdout = labelled(spec, features[features[PARTITION_COLUMN].isin(windows.holdout)]).reset_index(
        drop=True
    )
    scores = score_candidates(spec, holdout, model, None, float(train[spec.target.name].mean()))
    report = build_report(spec, holdout, scores)
    t_end = time.perf_counter()
    return {
        "seconds_total": t_end - t0,
        "seconds_read_clean": t_clean - t0,
        "seconds_features": t_features - t_clean,
        "seconds_train": t_train - t_features,
        "seconds_evaluate": t_end - t_train,
        "rows": float(len(main)),
        "holdout_roc_auc": report["metrics"]["challenger"]["roc_auc"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.data_dir)))


if __name__ == "__main__":
    main()
