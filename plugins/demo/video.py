"""The Video Creator: turns the rendered frames into an H.264 MP4 at the manifest's frame rate."""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataError, DataSink, DataSource, FrameSequence, Video, plugin

from .tables import time_series

__all__ = ["VideoConfig", "create_video", "manifest_rate"]


class VideoConfig(BaseModel):
    """Inputs, output and frame rate of the Video Creator."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frames: Annotated[
        FrameSequence,
        DataSource(name="rendered_frames"),
        Field(description="The frames to encode, in order."),
    ]
    frame_times: Annotated[
        pd.DataFrame | None,
        DataSource(name="video_manifest", columns=("t",)),
        Field(description="The frames' times: the video's rate follows them when fps is null."),
    ] = None
    video: Annotated[
        Video | None,
        DataSink(name="video"),
        Field(description="The video: the frames at their rate, for the mp4 handler."),
    ] = None
    fps: float | None = Field(
        default=None,
        gt=0,
        le=240,
        description="Frames per second of the video; null: the video manifest's rate (its "
        "frames over the time they span), so that the video plays in real time.",
    )


@plugin(name="Video Creator", default_config=VideoConfig)
def create_video(config: VideoConfig, logger: logging.Logger) -> Video:
    """Hand the frames to the mp4 handler, which encodes them as it saves (or links the video
    the frames handler encoded along with them, when its settings are the same)."""
    if config.fps is not None:
        fps = config.fps
    elif config.frame_times is not None:
        times = time_series(config.frame_times, "the video manifest", logger, ("t",))
        fps = manifest_rate(times)
    else:
        raise DataError(
            "the Video Creator needs a frame rate: there is no video manifest",
            ["map video_manifest in the case's io_mapping, or set pipeline.fps"],
        )
    seconds = len(config.frames) / fps
    logger.info("video of %d frames at %g fps (%.1f s)", len(config.frames), fps, seconds)
    return Video(frames=config.frames, fps=fps)


def manifest_rate(frame_times: pd.DataFrame) -> float:
    """Frames per second of a video manifest: its frame intervals over the time they span.

    Kept to a fraction with a denominator of at most 1001, so that timestamps rounded in the
    file give 30, not 29.9999, and NTSC's 30000/1001 can be told exactly.
    """
    times = np.sort(frame_times["t"].to_numpy(dtype=float))  # in time order, whatever the file's
    span = float(times[-1] - times[0]) if times.size > 1 else float("nan")
    if not span > 0:
        raise DataError(
            "the video manifest gives no frame rate: it needs two or more increasing timestamps",
            ["regenerate it (python -m nexus generate-data), or set pipeline.fps"],
        )
    return float(Fraction((times.size - 1) / span).limit_denominator(1001))
