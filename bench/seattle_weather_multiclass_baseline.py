"""The plain scikit-learn baseline for the seattle_weather_multiclass example: the file vega_datasets
ships, the spec's time split (train 2012–2014, holdout 2015), the spec's five classes and features,
no platform code. ``python -m bench.seattle_weather_multiclass_baseline`` prints the holdout metrics.

Macro AUC here is scikit-learn's one-vs-rest ROC AUC averaged over the classes the holdout holds
(2015 has no ``snow`` day, so ``roc_auc_score(multi_class="ovr")`` over all five is undefined):
``roc_auc_score(label_binarize(y, classes=present), proba[:, present], average="macro")``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bench.seattle_weather_baseline import FEATURES, data_file

CLASSES = ["sun", "rain", "drizzle", "snow", "fog"]


def holdout_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
    from sklearn.preprocessing import label_binarize

    present = np.unique(y)
    return {
        "roc_auc_macro": float(
            roc_auc_score(label_binarize(y, classes=present), proba[:, present], average="macro")
        ),
        "log_loss": float(log_loss(y, proba, labels=range(len(CLASSES)))),
        "accuracy": float(accuracy_score(y, proba.argmax(axis=1))),
        "f1_macro": float(f1_score(y, proba.argmax(axis=1), average="macro")),
    }


def baselines() -> tuple[dict[str, dict[str, float]], tuple[int, int]]:
    """Holdout metrics per plain model, and the (train, holdout) row counts."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(data_file())
    day = pd.to_datetime(frame["date"], format="%Y/%m/%d")
    y = frame["weather"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    train, holdout = (day < "2015-01-01").to_numpy(), (day >= "2015-01-01").to_numpy()
    models: dict[str, Any] = {
        "LogisticRegression(C=1, max_iter=1000) on scaled features": make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)
        ),
        "HistGradientBoostingClassifier(random_state=0)": HistGradientBoostingClassifier(random_state=0),
    }
    out = {}
    for name, model in models.items():
        model.fit(frame.loc[train, FEATURES], y[train])
        out[name] = holdout_metrics(y[holdout], model.predict_proba(frame.loc[holdout, FEATURES]))
    shares = np.bincount(y[train], minlength=len(CLASSES)) / train.sum()
    out["class shares of the training window (the platform's naive baseline)"] = holdout_metrics(
        y[holdout], np.tile(shares, (int(holdout.sum()), 1))
    )
    return out, (int(train.sum()), int(holdout.sum()))


if __name__ == "__main__":
    results, (n_train, n_holdout) = baselines()
    print(f"rows: train {n_train}, holdout {n_holdout}")
    for name, metrics in results.items():
        print(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
