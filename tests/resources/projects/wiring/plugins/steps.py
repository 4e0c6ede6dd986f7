"""Small steps for wiring: each output shows what its step received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, plugin
from nexus.handlers import FrameSequence


class PredictorConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    predicted: Annotated[pd.DataFrame | None, DataSink(name="predicted_states")] = None
    rows: int = Field(6, ge=1, description="how many states")


@plugin(name="Predictor", default_config=PredictorConfig)
def predict(config: PredictorConfig) -> pd.DataFrame:
    """States whose x jumps up and down: smoothing them changes them."""
    t = np.arange(config.rows, dtype=float)
    return pd.DataFrame({"t": t, "x": 10.0 * (t % 2), "y": t})


class SmootherConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    states: Annotated[pd.DataFrame, DataSource(name="predicted_states")]
    smoothed: Annotated[pd.DataFrame | None, DataSink(name="smoothed_states")] = None
    window: int = Field(2, ge=1, description="samples in the moving average of x and y")


@plugin(name="Smoother", default_config=SmootherConfig)
def smooth(config: SmootherConfig) -> pd.DataFrame:
    """A moving average of x and y; t stays as it is."""
    smoothed = config.states.copy()
    smoothed[["x", "y"]] = smoothed[["x", "y"]].rolling(config.window, min_periods=1).mean()
    return smoothed


class RendererConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    states: Annotated[pd.DataFrame, DataSource(name="predicted_states")]
    frames: Annotated[FrameSequence | None, DataSink(name="rendered_frames")] = None
    zoom_factor: float = Field(1.0, gt=0, le=20, description="how much x is magnified")


@plugin(name="Renderer", default_config=RendererConfig)
def render(config: RendererConfig) -> Iterator[np.ndarray]:
    """One grey 4x4 frame per state, its grey level x * zoom_factor: what it received."""
    for x in config.states["x"]:
        yield np.full((4, 4, 3), round(x * config.zoom_factor), dtype=np.uint8)


class Widget:
    """A type no handler saves."""


class WidgetMakerConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    widget: Annotated[Widget | None, DataSink(name="widget")] = None


@plugin(name="Widget Maker", default_config=WidgetMakerConfig)
def make_widget(config: WidgetMakerConfig) -> Widget:
    """Returns an object of a type nexus has no handler for."""
    return Widget()


class PingConfig(BaseModel):
    pong: Annotated[dict, DataSource(name="pong")]
    ping: Annotated[dict | None, DataSink(name="ping")] = None


@plugin(name="Ping", default_config=PingConfig)
def ping(config: PingConfig) -> dict[str, Any]:
    """Reads what Pong writes."""
    return {"ping": config.pong}


class PongConfig(BaseModel):
    ping: Annotated[dict, DataSource(name="ping")]
    pong: Annotated[dict | None, DataSink(name="pong")] = None


@plugin(name="Pong", default_config=PongConfig)
def pong(config: PongConfig) -> dict[str, Any]:
    """Reads what Ping writes."""
    return {"pong": config.ping}
