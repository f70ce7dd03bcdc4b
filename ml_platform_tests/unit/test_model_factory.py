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
