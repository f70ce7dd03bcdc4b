"""The training dataset logged to MLflow (ml_platform/resources/mlflow.py): a digest over every row,
and a schema inferred from a sample that equals MLflow's full inference."""

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from ml_platform.integrations.mlflow_model import SCHEMA_SAMPLE_ROWS, frame_digest, training_dataset


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "carrier": rng.choice(["AA", "UA", "DL"], rows),
            "distance": rng.uniform(100, 2000, rows),
            "sched_hour": rng.integers(5, 23, rows),
            "is_late": rng.integers(0, 2, rows),
        }
    )


def test_digest_sees_a_change_past_the_first_ten_thousand_rows() -> None:
    frame = _frame(SCHEMA_SAMPLE_ROWS * 3)
    changed = frame.copy()
    changed.loc[len(frame) - 1, "distance"] += 1.0
    assert frame_digest(frame) == frame_digest(frame.copy())
    assert frame_digest(changed) != frame_digest(frame)
    assert frame_digest(frame.astype({"sched_hour": "float64"})) != frame_digest(frame)


def test_sampled_schema_equals_full_inference() -> None:
    frame = _frame(SCHEMA_SAMPLE_ROWS * 2)
    dataset = training_dataset(mlflow, frame, "is_late", "t_train")
    assert dataset.schema == infer_signature(frame).inputs
    assert dataset.digest == frame_digest(frame)
    assert dataset.profile == {"num_rows": len(frame), "num_elements": int(frame.size)}
