"""The Latency Compensator: predicts where the object is now from measurements that arrive late."""

from __future__ import annotations

import logging
import math
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, Metrics, plugin

from .tables import time_series

__all__ = ["CompensatorConfig", "compensate", "predict_states", "rmse_against"]


class CompensatorConfig(BaseModel):
    """Inputs, output and parameters of the Latency Compensator."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    measurements: Annotated[
        pd.DataFrame,
        DataSource(name="latent_measurements", columns=("t", "x", "y")),
        Field(description="The positions as they arrive: late and noisy."),
    ]
    ground_truth: Annotated[
        pd.DataFrame | None,
        DataSource(name="ground_truth", columns=("t", "x", "y")),
        Field(description="The true positions, when known: the RMSE is measured against them."),
    ] = None
    predicted_states: Annotated[
        pd.DataFrame | None,
        DataSink(name="predicted_states"),
        Field(description="The positions predicted for now, one row per measurement."),
    ] = None
    latency_to_compensate_s: float = Field(
        default=0.2,
        ge=0,
        le=2,
        description="How late the measurements are, in seconds: each one is moved this far "
        "forward along the estimated velocity. 0 turns the compensation off.",
    )
    velocity_window: int = Field(
        default=36,
        ge=2,
        le=10_000,
        description="How many of the latest measurements (up to each one) a straight line is "
        "fitted to, by least squares, to estimate position and velocity. Larger smooths "
        "the noise more but reacts later in turns; 36 is 0.2 s at 180 Hz.",
    )


@plugin(name="Latency Compensator", default_config=CompensatorConfig)
def compensate(config: CompensatorConfig, logger: logging.Logger, metrics: Metrics) -> pd.DataFrame:
    """Extrapolate late measurements along their estimated velocity to the present."""
    measurements = time_series(config.measurements, "the measurements table", logger)
    if measurements["t"].nunique() == 1 and len(measurements) > 1:
        logger.warning("the measurements give no velocity: nothing is compensated")
    states = predict_states(measurements, config.latency_to_compensate_s, config.velocity_window)
    logger.info(
        "predicted %d states %.3f s ahead (velocity from the last %d measurements)",
        len(states),
        config.latency_to_compensate_s,
        config.velocity_window,
    )
    if config.ground_truth is not None:
        truth = time_series(config.ground_truth, "the ground truth table", logger)
        rmse = rmse_against(states, truth)
        if rmse is None:
            logger.warning("the ground truth covers none of the measurements' times: no RMSE")
        elif not math.isfinite(rmse):
            logger.warning("the RMSE is %s (values too large to square): not recorded", rmse)
        else:
            metrics.log("rmse", rmse)
            logger.info("RMSE of the predicted positions against the ground truth: %.4f", rmse)
    return states


def predict_states(measurements: pd.DataFrame, latency_s: float, window: int) -> pd.DataFrame:
    """Fit a line to each trailing window of measurements; evaluate it `latency_s` ahead.

    Returns the columns t, x, y, vx, vy (the prediction) and x_measured, y_measured.
    """
    table = measurements.sort_values("t", kind="stable", ignore_index=True)
    t = table["t"].to_numpy(dtype=float)
    # Times relative to the start keep the rolling sums of t**2 small, so precise.
    tc = t - t[0] if t.size else t
    states = {"t": t}
    for axis in ("x", "y"):
        values = table[axis].to_numpy(dtype=float)
        level, slope = _trailing_line(tc, values, window)
        states[axis] = level + slope * latency_s
        states[f"v{axis}"] = slope
    states["x_measured"] = table["x"].to_numpy(dtype=float)
    states["y_measured"] = table["y"].to_numpy(dtype=float)
    return pd.DataFrame(states)[["t", "x", "y", "vx", "vy", "x_measured", "y_measured"]]


def _trailing_line(t: np.ndarray, v: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line through the last `window` points up to each one: (value at t, slope).

    Vectorised with rolling sums. Until `window` points have arrived the slope is 0 and the
    value their mean: a line through a few noisy points would fling predictions far away.
    """
    sums = pd.DataFrame({"t": t, "v": v, "tt": t * t, "tv": t * v})
    sums = sums.rolling(window, min_periods=1).sum().to_numpy()
    n = np.arange(1, t.size + 1, dtype=float).clip(max=window)
    s_t, s_v, s_tt, s_tv = sums.T
    var_t = s_tt - s_t * s_t / n
    cov_tv = s_tv - s_t * s_v / n
    # Equal times in a window give no slope either.
    usable = (n >= window) & (var_t > 1e-12 * np.maximum(s_tt, 1.0))
    slope = np.divide(cov_tv, var_t, out=np.zeros_like(var_t), where=usable)
    level = s_v / n + slope * (t - s_t / n)
    return level, slope


def rmse_against(states: pd.DataFrame, truth: pd.DataFrame) -> float | None:
    """Root-mean-square distance between predicted and true positions at the states' times.

    The truth is interpolated linearly to each state's t (exact where the stamps are shared,
    as in the demo); states outside the truth's time span are left out. None when none is in.
    """
    truth = truth.sort_values("t", kind="stable")
    truth_t = truth["t"].to_numpy(dtype=float)
    t = states["t"].to_numpy(dtype=float)
    inside = (t >= truth_t[0]) & (t <= truth_t[-1]) if truth_t.size else np.zeros(t.size, bool)
    if not inside.any():
        return None
    dx = states["x"].to_numpy(dtype=float)[inside] - np.interp(t[inside], truth_t, truth["x"])
    dy = states["y"].to_numpy(dtype=float)[inside] - np.interp(t[inside], truth_t, truth["y"])
    return float(np.sqrt(np.mean(dx * dx + dy * dy)))
