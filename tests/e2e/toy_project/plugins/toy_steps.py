"""Two small steps for the end-to-end tests: Double a table, then Sum it."""

import time
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, Metrics, plugin


class DoubleConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Annotated[pd.DataFrame, DataSource(name="numbers", columns=("value",))]
    doubled: Annotated[pd.DataFrame | None, DataSink(name="doubled")] = None
    factor: float = Field(2.0, gt=0, description="what each value is multiplied by")
    fail_on: float | None = Field(None, description="raise when factor equals this")
    sleep_s: float = Field(0.0, ge=0, description="seconds to wait before working")
    rows: int = Field(0, ge=0, description="when > 0, return this many random rows instead")
    return_kind: Literal["table", "text", "none"] = Field(
        "table", description="what to return: the table, a string (unsavable), or nothing"
    )


@plugin(name="Double", default_config=DoubleConfig)
def double(config: DoubleConfig, metrics: Metrics) -> pd.DataFrame:
    """Multiplies every value by `factor`."""
    time.sleep(config.sleep_s)
    if config.fail_on is not None and config.factor == config.fail_on:
        raise ValueError(f"factor {config.factor} is the one that fails")
    metrics.log("total", float(config.table["value"].sum() * config.factor))
    if config.return_kind == "text":
        return "not a table"
    if config.return_kind == "none":
        return None
    if config.rows:
        values = np.random.default_rng(0).random((config.rows, 4))
        return pd.DataFrame(values, columns=["a", "b", "c", "d"])
    return config.table * config.factor


class SumConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Annotated[pd.DataFrame, DataSource(name="doubled")]
    summary: Annotated[dict | None, DataSink(name="summary")] = None


@plugin(name="Sum", default_config=SumConfig)
def total(config: SumConfig) -> dict:
    """Sums the doubled values."""
    return {"sum": float(config.table["value"].sum())}
