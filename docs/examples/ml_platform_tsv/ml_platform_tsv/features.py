"""Feature builder ``price_ratio``: the main table's columns plus ``price / mean price of its day``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import FeatureBuilder


class RatioOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str = "price"


def _ratio(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> pd.DataFrame:
    out = main.copy()
    column = options["column"]
    out[f"{column}_ratio"] = out[column] / out.groupby(PARTITION_COLUMN)[column].transform("mean")
    return out


PRICE_RATIO = FeatureBuilder(name="price_ratio", pandas=_ratio, options=RatioOptions)
