"""A step that streams frames to its sink through `progress.track`, as the demo's renderer does."""

import time
from collections.abc import Iterator
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, plugin
from nexus.core.progress import Progress
from nexus.handlers import FrameSequence


class FrameMakerConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    frames: Annotated[FrameSequence | None, DataSink(name="frames")] = None
    count: int = Field(40, ge=1, description="how many frames to draw")
    delay_s: float = Field(0.0, ge=0, description="seconds each frame takes")
    fail_at: int | None = Field(None, description="raise when drawing this frame")


@plugin(name="Frame Maker", default_config=FrameMakerConfig)
def make_frames(config: FrameMakerConfig, progress: Progress) -> Iterator[np.ndarray]:
    """Draws `count` grey 16x16 frames, lazily."""
    return progress.track(_frames(config), total=config.count, unit="frames")


def _frames(config: FrameMakerConfig) -> Iterator[np.ndarray]:
    for index in range(config.count):
        if index == config.fail_at:
            raise ValueError(f"frame {index} cannot be drawn")
        time.sleep(config.delay_s)
        yield np.full((16, 16, 3), index % 256, dtype=np.uint8)
