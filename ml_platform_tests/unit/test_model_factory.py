"""Model construction and fitting (ml_platform/ml/model_factory.py): the lean fit (copy-on-write,
frame released before the estimator fits) gives the same model as a plain fit; a spec's pipeline
takes its estimator, columns and params."""

import numpy as np
import pandas as pd
import pytest
from flights_delay import SPEC_DIR

from ml_platform.ml.model_factory import fit_lean, make_pipeline, pipeline_for, predict_scores
from ml_platform.specs import load_spec


@pytest.mark.parametrize("kind", ["hist_gradient_boosting", "linear"])
def test_fit_lean_equals_fit(kind: str) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame(
        {
            "carrier": rng.choice(["AA", "UA", "DL", None], n),
            "distance": rng.uniform(100, 2000, n),
            "hour": rng.integers(5, 23, n).astype(float),
        }
    )
    X.loc[rng.choice(n, 100, replace=False), "distance"] = np.nan
    y = ((X["distance"].fillna(0) > 900) ^ (rng.random(n) < 0.2)).astype(int).to_numpy()
    before = X.copy()
    params = {"max_iter": 20, "random_state": 0} if kind == "hist_gradient_boosting" else {"max_iter": 200}
    plain = make_pipeline(kind, "classification", ["carrier"], ["distance", "hour"], params).fit(X, y)
    owned = [X.copy()]
    lean = fit_lean(
        make_pipeline(kind, "classification", ["carrier"], ["distance", "hour"], params), owned, y
    )
    assert owned == []  # taken over
    np.testing.assert_array_equal(
        predict_scores(plain, X, "classification"), predict_scores(lean, X, "classification")
    )
    pd.testing.assert_frame_equal(X, before)  # the plain fit's frame, untouched
    assert list(lean.feature_names_in_) == ["carrier", "distance", "hour"]
    assert not pd.get_option("mode.copy_on_write")  # scoped to the fit


def test_pipeline_for_spec_uses_its_estimator_columns_and_params() -> None:
    spec = load_spec(SPEC_DIR / "flights_delay.yaml")
    estimator = pipeline_for(spec).steps[-1][1]
    for name, value in spec.estimator.params.items():
        assert estimator.get_params()[name] == value
    assert pipeline_for(spec, {"max_iter": 7}).steps[-1][1].get_params()["max_iter"] == 7
    prep = pipeline_for(spec)[:-1]
    columns = {c for _, _, cols in prep.steps[0][1].transformers for c in cols}
    assert columns == set(spec.features.categorical) | set(spec.features.numeric)


def test_small_batches_are_scored_on_one_openmp_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small batch runs on one OpenMP thread, a large one as configured; the scores are the same."""
    from sklearn.pipeline import make_pipeline as sk_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from threadpoolctl import threadpool_info, threadpool_limits

    from ml_platform.ml import model_factory

    seen: list[int] = []

    def record(X: pd.DataFrame) -> pd.DataFrame:
        seen.append(min(i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"))
        return X

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = (X["a"] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    model = sk_pipeline(
        FunctionTransformer(record), make_pipeline("hist_gradient_boosting", "classification", [], ["a", "b"],
                                                   {"max_iter": 10, "random_state": 0})
    ).fit(X, y)  # fmt: skip
    seen.clear()
    with threadpool_limits(2, user_api="openmp"):  # as configured: 2 threads, whatever the machine
        small = predict_scores(model, X, "classification")
        monkeypatch.setattr(model_factory, "SINGLE_THREAD_ROWS", 100)
        large = predict_scores(model, X, "classification")
    assert seen == [1, 2]
    np.testing.assert_array_equal(small, large)
    np.testing.assert_array_equal(small, model.predict_proba(X)[:, 1])
