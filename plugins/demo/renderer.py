"""The Frame Renderer: draws each video frame of the replay, following the object."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataError, DataSink, DataSource, FrameSequence, Progress, plugin

from .canvas import Scene, Track, camera_path
from .tables import time_series, times_outside
from .workers import available_cores, draw_frames

__all__ = ["RendererConfig", "render"]


class RendererConfig(BaseModel):
    """Inputs, output and parameters of the Frame Renderer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    states: Annotated[
        pd.DataFrame,
        DataSource(name="predicted_states", columns=("t", "x", "y")),
        Field(description="The predicted positions: the blue trail, which the view follows."),
    ]
    measurements: Annotated[
        pd.DataFrame,
        DataSource(name="latent_measurements", columns=("t", "x", "y")),
        Field(description="The late measurements: the orange dots."),
    ]
    frame_times: Annotated[
        pd.DataFrame,
        DataSource(name="video_manifest", columns=("t",)),
        Field(description="One row per frame to draw, at its time `t`."),
    ]
    ground_truth: Annotated[
        pd.DataFrame | None,
        DataSource(name="ground_truth", columns=("t", "x", "y")),
        Field(description="The true positions, when known: the dashed trail."),
    ] = None
    frames: Annotated[
        FrameSequence | None,
        DataSink(name="rendered_frames"),
        Field(description="The frames, as RGB images, one per row of the video manifest."),
    ] = None
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
        json_schema_extra={"affects_output": False},  # not in the cache key: same frames
    )


@plugin(name="Frame Renderer", default_config=RendererConfig)
def render(
    config: RendererConfig, logger: logging.Logger, progress: Progress
) -> Iterator[np.ndarray]:
    """Draw one frame per row of the video manifest; frames are made as they are consumed."""
    states = _track(config.states, "the predicted states table", logger)
    measured = _track(config.measurements, "the measurements table", logger)
    truth = (
        None
        if config.ground_truth is None
        else _track(config.ground_truth, "the ground truth table", logger)
    )
    if config.frame_times.empty:
        raise DataError("the video manifest has no rows: there is no frame to render")
    times = time_series(config.frame_times, "the video manifest", logger, ("t",))["t"].to_numpy()
    _check_span(times, states.t, logger)
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


def _track(table: pd.DataFrame, what: str, logger: logging.Logger) -> Track:
    rows = time_series(table, what, logger)
    return Track(*(rows[c].to_numpy(dtype=float, copy=True) for c in ("t", "x", "y")))


def _check_span(times: np.ndarray, data_t: np.ndarray, logger: logging.Logger) -> None:
    """Frames far outside the predictions' time span show the first or last state: say so."""
    outside = times_outside(times, data_t)
    if not outside.any():
        return
    span = f"the predicted states span t = {data_t[0]:g} to {data_t[-1]:g} s"
    if outside.all():
        raise DataError(
            f"every frame of the video manifest lies outside the data: its times run from "
            f"{times[0]:g} to {times[-1]:g} s, {span}",
            ["the manifest and the measurements must share one clock: check their t columns"],
        )
    logger.warning(
        "%d of %d frames of the video manifest lie outside the data (%s): they show the "
        "nearest state",
        int(outside.sum()),
        times.size,
        span,
    )
