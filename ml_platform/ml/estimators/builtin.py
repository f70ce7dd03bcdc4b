"""The built-in estimator kinds (scikit-learn)."""

from ml_platform.ml.estimators import EstimatorKind, register_estimator

HIST_GRADIENT_BOOSTING = register_estimator(
    EstimatorKind(
        name="hist_gradient_boosting",
        classification="sklearn.ensemble.HistGradientBoostingClassifier",
        regression="sklearn.ensemble.HistGradientBoostingRegressor",
        native_categorical=True,
        description="histogram gradient boosting with native categorical splits",
    )
)
RANDOM_FOREST = register_estimator(
    EstimatorKind(
        name="random_forest",
        classification="sklearn.ensemble.RandomForestClassifier",
        regression="sklearn.ensemble.RandomForestRegressor",
    )
)
LINEAR = register_estimator(
    EstimatorKind(
        name="linear",
        classification="sklearn.linear_model.LogisticRegression",
        regression="sklearn.linear_model.Ridge",
    )
)
