"""Built-in feature builders, registered by name for a spec's ``features.builder``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ml_platform.ml.features import FeatureBuilder, register_builder


def _columns(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> pd.DataFrame:
    """The model columns are columns of the cleaned main table as they are."""
    return main.copy()


COLUMNS = register_builder(
    FeatureBuilder(
        name="columns",
        pandas=_columns,
        description="the cleaned main table's columns as they are",
        outputs=lambda spec: list(spec.main_table.columns),
    )
)
