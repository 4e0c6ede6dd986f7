"""The step of the template case, written by `python -m nexus new-case`.

Edit it into your own step, or delete it once no case lists 'Example Scaler'.
"""

from __future__ import annotations

import logging
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, Metrics, plugin


class ScalerConfig(BaseModel):
    """Input, output and parameters of the Example Scaler."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    numbers: Annotated[pd.DataFrame, DataSource(name="numbers")]
    scaled: Annotated[pd.DataFrame | None, DataSink(name="scaled")] = None
    factor: float = Field(2.0, gt=0, description="What every number is multiplied by.")


@plugin(name="Example Scaler", default_config=ScalerConfig)
def scale(config: ScalerConfig, logger: logging.Logger, metrics: Metrics) -> pd.DataFrame:
    """Multiply the numeric columns of a table by a factor."""
    scaled = config.numbers.copy()
    numeric = scaled.select_dtypes("number").columns
    scaled[numeric] = scaled[numeric] * config.factor
    metrics.log("total", float(scaled[numeric].to_numpy().sum()))
    logger.info("scaled %d rows by %g", len(scaled), config.factor)
    return scaled
