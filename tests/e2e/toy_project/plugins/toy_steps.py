"""Two small steps for the end-to-end tests: Double a table, then Sum it."""

import time
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, Metrics, plugin


class DoubleConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Annotated[pd.DataFrame, DataSource(name="numbers")]
    doubled: Annotated[pd.DataFrame | None, DataSink(name="doubled")] = None
    factor: float = Field(2.0, gt=0, description="what each value is multiplied by")
    fail_on: float | None = Field(None, description="raise when factor equals this")
    sleep_s: float = Field(0.0, ge=0, description="seconds to wait before working")


@plugin(name="Double", default_config=DoubleConfig)
def double(config: DoubleConfig, metrics: Metrics) -> pd.DataFrame:
    """Multiplies every value by `factor`."""
    time.sleep(config.sleep_s)
    if config.fail_on is not None and config.factor == config.fail_on:
        raise ValueError(f"factor {config.factor} is the one that fails")
    metrics.log("total", float(config.table["value"].sum() * config.factor))
    return config.table * config.factor


class SumConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Annotated[pd.DataFrame, DataSource(name="doubled")]
    summary: Annotated[dict | None, DataSink(name="summary")] = None


@plugin(name="Sum", default_config=SumConfig)
def total(config: SumConfig) -> dict:
    """Sums the doubled values."""
    return {"sum": float(config.table["value"].sum())}
