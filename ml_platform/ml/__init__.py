"""Pure ML logic, no Dagster: cleaning, feature bookkeeping, estimators, model factory, windows,
metrics, the gate decision, plots and the model card. Typed functions over pandas/numpy."""
