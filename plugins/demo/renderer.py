"""The Frame Renderer: draws each video frame of the replay, following the object."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, plugin
from nexus.core.progress import Progress
from nexus.errors import DataError
from nexus.handlers import FrameSequence

from . import require_columns
from .canvas import Scene, Track, camera_path
from .workers import available_cores, draw_frames

__all__ = ["RendererConfig", "render"]


class RendererConfig(BaseModel):
    """Inputs, output and parameters of the Frame Renderer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    states: Annotated[pd.DataFrame, DataSource(name="predicted_states")]
    measurements: Annotated[pd.DataFrame, DataSource(name="latent_measurements")]
    frame_times: Annotated[pd.DataFrame, DataSource(name="video_manifest")]
    ground_truth: Annotated[pd.DataFrame | None, DataSource(name="ground_truth")] = None
    frames: Annotated[FrameSequence | None, DataSink(name="rendered_frames")] = None
    zoom_factor: float = Field(
        default=5,
        gt=0,
        le=1000,
        description="How far the view, centred on the object, zooms into the scene: 1 shows "
        "the whole path's extent across the frame's shorter side, 5 a fifth of it.",
    )
    width: int = Field(default=640, ge=64, le=3840, description="Frame width in pixels.")
    height: int = Field(default=480, ge=64, le=2160, description="Frame height in pixels.")
    trail_s: float = Field(
        default=1.5,
        ge=0,
        le=60,
        description="Seconds of history drawn behind the object: the prediction's trail, the "
        "ground truth's, and the measurements received meanwhile.",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Processes drawing frames in parallel; null: one per core this process "
        "may use. 1 draws in the step's own process, as every value does on systems other "
        "than Linux. The frames are the same either way.",
    )


@plugin(name="Frame Renderer", default_config=RendererConfig)
def render(
    config: RendererConfig, logger: logging.Logger, progress: Progress
) -> Iterator[np.ndarray]:
    """Draw one frame per row of the video manifest; frames are made as they are consumed."""
    states = Track.of(config.states, "the predicted states table")
    measured = Track.of(config.measurements, "the measurements table")
    truth = (
        None if config.ground_truth is None else Track.of(config.ground_truth, "the ground truth")
    )
    require_columns(config.frame_times, ("t",), "the video manifest")
    times = config.frame_times["t"].to_numpy(dtype=float)
    if times.size == 0:
        raise DataError("the video manifest has no rows: there is no frame to render")
    scene = Scene(
        width=config.width,
        height=config.height,
        zoom_factor=config.zoom_factor,
        trail_s=config.trail_s,
        states=states,
        measured=measured,
        truth=truth,
        times=times,
        centres=camera_path(states, times),
    )
    workers = config.workers or available_cores()
    logger.debug("drawing %d frames with %d worker process(es)", len(scene), workers)
    # Checked above, drawn as the frames are saved; closing the tracked frames (at the end,
    # or on an error) stops the worker processes at once.
    return progress.track(draw_frames(scene, workers), total=len(scene), unit="frames")
