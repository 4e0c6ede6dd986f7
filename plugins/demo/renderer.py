"""The Frame Renderer: draws each video frame of the replay, following the object."""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, plugin
from nexus.errors import DataError
from nexus.handlers import FrameSequence

from . import require_columns

__all__ = ["RendererConfig", "render"]

CAMERA_SMOOTHING_S = 0.5  # the view follows a centred mean of the predictions: no shake
BASE_HEIGHT_PX = 480  # fonts and markers are sized for this height, then scaled
STYLE: dict[str, dict[str, Any]] = {
    "measured": {"ls": "none", "marker": "o", "ms": 3.5, "color": "tab:orange", "alpha": 0.35},
    "latest": {"ls": "none", "marker": "o", "ms": 7, "color": "tab:orange"},
    "shift": {"ls": ":", "lw": 1.2, "color": "tab:orange"},
    "predicted": {"ls": "-", "lw": 2.2, "color": "tab:blue"},
    "now": {"ls": "none", "marker": "o", "ms": 10, "color": "tab:blue", "mec": "white"},
    "truth": {"ls": "--", "lw": 1.2, "color": "0.15"},
    "truth_now": {"ls": "none", "marker": "o", "ms": 15, "mfc": "none", "mec": "0.15", "mew": 1.5},
}
LEGEND = (
    ("measured", "measurements (late, noisy)"),
    ("now", "predicted state"),
    ("truth_now", "ground truth"),
)


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


@dataclass(frozen=True)
class _Track:
    """Positions sorted by time."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, table: pd.DataFrame, what: str) -> _Track:
        require_columns(table, ("t", "x", "y"), what)
        rows = table.dropna(subset=["t", "x", "y"]).sort_values("t", kind="stable")
        if rows.empty:
            raise DataError(f"{what} has no complete row (t, x and y all set)")
        return cls(*(rows[c].to_numpy(dtype=float) for c in ("t", "x", "y")))

    def window(self, start: float, end: float) -> slice:
        """The rows with start <= t <= end."""
        first = np.searchsorted(self.t, start, side="left")
        return slice(int(first), int(np.searchsorted(self.t, end, side="right")))

    def at(self, t: float) -> tuple[float, float]:
        """The position at `t`, interpolated."""
        return float(np.interp(t, self.t, self.x)), float(np.interp(t, self.t, self.y))


@plugin(name="Frame Renderer", default_config=RendererConfig)
def render(config: RendererConfig, logger: logging.Logger) -> Generator[np.ndarray, None, None]:
    """Draw one frame per row of the video manifest; frames are made as they are consumed."""
    states = _Track.of(config.states, "the predicted states table")
    measured = _Track.of(config.measurements, "the measurements table")
    truth = (
        None if config.ground_truth is None else _Track.of(config.ground_truth, "the ground truth")
    )
    require_columns(config.frame_times, ("t",), "the video manifest")
    times = config.frame_times["t"].to_numpy(dtype=float)
    if times.size == 0:
        raise DataError("the video manifest has no rows: there is no frame to render")
    # Checked above, drawn below: a generator body would only run once saving starts.
    return _frames(config, states, measured, truth, times, logger)


def _frames(
    config: RendererConfig,
    states: _Track,
    measured: _Track,
    truth: _Track | None,
    times: np.ndarray,
    logger: logging.Logger,
) -> Generator[np.ndarray, None, None]:
    canvas = _Canvas(config, states, truth)
    centres = _camera_path(states, times)
    every = max(1, len(times) // 10)
    for index, (t, centre) in enumerate(zip(times, centres, strict=True)):
        yield canvas.draw(t, centre, states, measured, truth, config.trail_s)
        if (index + 1) % every == 0 or index + 1 == len(times):
            logger.info("rendered %d/%d frames", index + 1, len(times))


def _camera_path(states: _Track, times: np.ndarray) -> np.ndarray:
    """Where the view is centred at each frame time: the predictions, smoothed over time."""
    step = float(np.median(np.diff(states.t))) if states.t.size > 1 else 1.0
    window = max(1, round(CAMERA_SMOOTHING_S / step)) if step > 0 else 1
    smooth = pd.DataFrame({"x": states.x, "y": states.y}).rolling(
        window, center=True, min_periods=1
    )
    mean = smooth.mean()
    return np.column_stack([np.interp(times, states.t, mean[c].to_numpy()) for c in ("x", "y")])


def _grid_step(span: float) -> float:
    """A round grid spacing (1, 2 or 5 times a power of ten) giving about 5 lines per span."""
    raw = span / 5
    power = 10 ** np.floor(np.log10(raw))
    return float(power * next(m for m in (1, 2, 5, 10) if m * power >= raw))


class _Canvas:
    """One figure reused for every frame: static parts drawn once, moving ones blitted."""

    def __init__(self, config: RendererConfig, states: _Track, truth: _Track | None) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure

        dpi = 100 * config.height / BASE_HEIGHT_PX
        # +0.25 px: matplotlib truncates width * dpi, which float rounding can put 1 px short.
        size = ((config.width + 0.25) / dpi, (config.height + 0.25) / dpi)
        self.figure = Figure(figsize=size, dpi=dpi, facecolor="#fbfbf8")
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0, 0, 1, 1))
        self.ax.set_axis_off()
        self.half = self._half_extent(config, truth or states)
        self.step = _grid_step(2 * min(self.half))
        self.grid = LineCollection([], colors="#dcdcd4", linewidths=0.8, animated=True)
        self.ax.add_collection(self.grid)
        self.lines = {k: self.ax.plot([], [], animated=True, **s)[0] for k, s in STYLE.items()}
        self.label = self.ax.text(
            0.02,
            0.97,
            "",
            transform=self.ax.transAxes,
            va="top",
            fontsize=11,
            animated=True,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.8", "alpha": 0.9},
        )
        legend = self._legend(with_truth=truth is not None)
        self.canvas.draw()  # everything not animated: the background and the legend
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.legend_patch = self.canvas.copy_from_bbox(legend.get_window_extent().padded(2))

    def _legend(self, with_truth: bool) -> Any:
        from matplotlib.lines import Line2D

        shown = [(key, text) for key, text in LEGEND if with_truth or key != "truth_now"]
        return self.ax.legend(
            [Line2D([], [], **STYLE[key]) for key, _ in shown],
            [text for _, text in shown],
            loc="lower right",
            framealpha=1,  # opaque, so its pixels can be pasted back over the moving parts
            title=f"grid squares: {self.step:g} m",
            title_fontsize=9,
        )

    @staticmethod
    def _half_extent(config: RendererConfig, track: _Track) -> tuple[float, float]:
        """Half the view's width and height in metres; x and y share one scale."""
        low, high = np.percentile(np.column_stack([track.x, track.y]), [1, 99], axis=0)
        scene = float(max(np.max(high - low), 1e-6))
        short = scene / config.zoom_factor / 2
        ratio = config.width / config.height
        return (short * ratio, short) if ratio >= 1 else (short, short / ratio)

    def draw(
        self,
        t: float,
        centre: np.ndarray,
        states: _Track,
        measured: _Track,
        truth: _Track | None,
        trail_s: float,
    ) -> np.ndarray:
        """Render the frame at time `t` centred on `centre`; returns an (H, W, 3) uint8 copy."""
        (cx, cy), (hx, hy) = centre, self.half
        self.ax.set_xlim(cx - hx, cx + hx)
        self.ax.set_ylim(cy - hy, cy + hy)
        self._update_grid(cx, cy)
        self._update_tracks(t, states, measured, truth, trail_s)
        self.label.set_text(f"t = {t:.2f} s")
        self.canvas.restore_region(self.background)
        self.ax.draw_artist(self.grid)
        for line in self.lines.values():
            self.ax.draw_artist(line)
        self.canvas.restore_region(self.legend_patch)  # the legend stays on top
        self.ax.draw_artist(self.label)
        return _rgb(np.asarray(self.canvas.buffer_rgba()))

    def _update_grid(self, cx: float, cy: float) -> None:
        (hx, hy), step = self.half, self.step
        xs = np.arange(np.floor((cx - hx) / step), np.ceil((cx + hx) / step) + 1) * step
        ys = np.arange(np.floor((cy - hy) / step), np.ceil((cy + hy) / step) + 1) * step
        segments = [[(x, cy - hy), (x, cy + hy)] for x in xs]
        segments += [[(cx - hx, y), (cx + hx, y)] for y in ys]
        self.grid.set_segments(segments)

    def _update_tracks(
        self, t: float, states: _Track, measured: _Track, truth: _Track | None, trail_s: float
    ) -> None:
        lines = self.lines
        trail, seen = states.window(t - trail_s, t), measured.window(t - trail_s, t)
        now = max(trail.stop - 1, 0)
        lines["predicted"].set_data(states.x[trail], states.y[trail])
        lines["now"].set_data([states.x[now]], [states.y[now]])
        lines["measured"].set_data(measured.x[seen], measured.y[seen])
        last = max(seen.stop - 1, 0)
        lines["latest"].set_data([measured.x[last]], [measured.y[last]])
        lines["shift"].set_data(
            [measured.x[last], states.x[now]], [measured.y[last], states.y[now]]
        )
        if truth is not None:
            past = truth.window(t - trail_s, t)
            tx, ty = truth.at(t)
            lines["truth"].set_data(np.append(truth.x[past], tx), np.append(truth.y[past], ty))
            lines["truth_now"].set_data([tx], [ty])


def _rgb(rgba: np.ndarray) -> np.ndarray:
    """A contiguous RGB copy; channel by channel is 4x faster than copying a strided slice."""
    rgb = np.empty((*rgba.shape[:2], 3), dtype=np.uint8)
    for channel in range(3):
        rgb[:, :, channel] = rgba[:, :, channel]
    return rgb
