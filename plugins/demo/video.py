"""The Video Creator: turns the rendered frames into an H.264 MP4."""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, plugin
from nexus.handlers import FrameSequence, Video

__all__ = ["VideoConfig", "create_video"]


class VideoConfig(BaseModel):
    """Input, output and frame rate of the Video Creator."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frames: Annotated[FrameSequence, DataSource(name="rendered_frames")]
    video: Annotated[Video | None, DataSink(name="video")] = None
    fps: float = Field(
        default=30,
        gt=0,
        le=240,
        description="Frames per second of the video; the demo renders 30 frames per second "
        "of replay, so 30 plays it in real time.",
    )


@plugin(name="Video Creator", default_config=VideoConfig)
def create_video(config: VideoConfig, logger: logging.Logger) -> Video:
    """Hand the frames to the mp4 handler, which encodes them as it saves (or links the video
    the frames handler encoded along with them, when its settings are the same)."""
    seconds = len(config.frames) / config.fps
    logger.info("video of %d frames at %g fps (%.1f s)", len(config.frames), config.fps, seconds)
    return Video(frames=config.frames, fps=config.fps)
