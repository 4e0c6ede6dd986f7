"""Drawing the demo's frames: one matplotlib figure per process, static parts drawn once.

No plugin here: the Frame Renderer (`renderer.py`) describes what to draw as a `Scene`, and a
`Canvas` draws its frames, in this process or in worker processes (`workers.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nexus import DataError

__all__ = ["Canvas", "Scene", "Track", "camera_path", "import_matplotlib"]

CAMERA_SMOOTHING_S = 0.5  # the view follows a centred mean of the predictions: no shake
BASE_HEIGHT_PX = 480  # fonts and markers are sized for this height, then scaled
BACKGROUND = "#fbfbf8"
STYLE: dict[str, dict[str, Any]] = {
    "measured": {"ls": "none", "marker": "o", "ms": 3.5, "color": "tab:orange", "alpha": 0.35},
    "latest": {"ls": "none", "marker": "o", "ms": 7, "color": "tab:orange"},
    "shift": {"ls": ":", "lw": 1.2, "color": "tab:orange"},
    "predicted": {"ls": "-", "lw": 2.2, "color": "tab:blue"},
    "now": {"ls": "none", "marker": "o", "ms": 10, "color": "tab:blue", "mec": "white"},
    "truth": {"ls": "--", "lw": 1.2, "color": "0.15"},
    "truth_now": {"ls": "none", "marker": "o", "ms": 15, "mfc": "none", "mec": "0.15", "mew": 1.5},
}
# What the legend shows: its line styles (drawn over one another) and its text, in rows.
LEGEND: tuple[tuple[tuple[str, ...], str], ...] = (
    (("measured",), "measurements (late, noisy)"),
    (("latest",), "latest measurement"),
    (("shift",), "latest measurement to prediction"),
    (("predicted", "now"), "predicted state, its trail"),
    (("truth", "truth_now"), "ground truth, its trail"),
)
LEGEND_STRIP_PX = 56  # at BASE_HEIGHT_PX: a strip below the view, so the legend hides no track
GRID_COLOR = "#dcdcd4"
LABEL: dict[str, Any] = {"x": 0.02, "y": 0.97, "va": "top", "fontsize": 11}
LABEL_BOX: dict[str, Any] = {"boxstyle": "round", "fc": "white", "ec": "0.8", "alpha": 0.9}


@dataclass(frozen=True)
class Track:
    """Positions sorted by time."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, table: pd.DataFrame, what: str) -> Track:
        rows = table.dropna(subset=["t", "x", "y"]).sort_values("t", kind="stable")
        if rows.empty:
            raise DataError(f"{what} has no complete row (t, x and y all set)")
        # Own, writable copies: pandas hands out read-only views, which np.interp would copy
        # on every call, making each frame's cost grow with the track's length.
        return cls(*(rows[c].to_numpy(dtype=float, copy=True) for c in ("t", "x", "y")))

    def window(self, start: float, end: float) -> slice:
        """The rows with start <= t <= end: two binary searches, whatever the track's length."""
        first = np.searchsorted(self.t, start, side="left")
        return slice(int(first), int(np.searchsorted(self.t, end, side="right")))

    def at(self, t: float) -> tuple[float, float]:
        """The position at `t`, interpolated."""
        return float(np.interp(t, self.t, self.x)), float(np.interp(t, self.t, self.y))


@dataclass(frozen=True)
class Scene:
    """All a frame is drawn from: plain arrays and numbers, cheap to send to a worker process."""

    width: int
    height: int
    zoom_factor: float
    trail_s: float
    states: Track
    measured: Track
    truth: Track | None
    times: np.ndarray  # one frame per time
    centres: np.ndarray  # (frames, 2): where the view is centred

    def __len__(self) -> int:
        return int(self.times.size)


def import_matplotlib() -> None:
    """Import what a Canvas draws with (~0.3 s, most of a first Canvas's cost)."""
    import matplotlib.backends.backend_agg
    import matplotlib.collections
    import matplotlib.figure
    import matplotlib.lines  # noqa: F401


def camera_path(states: Track, times: np.ndarray) -> np.ndarray:
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


class Canvas:
    """One figure reused for every frame: static parts drawn once, moving ones blitted.

    Static: the background, the legend and the time label's box (sized for the widest label,
    so it does not jitter). Per frame: the grid, the tracks and the label's text.
    """

    def __init__(self, scene: Scene) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure

        self.scene = scene
        dpi = 100 * scene.height / BASE_HEIGHT_PX
        # +0.25 px: matplotlib truncates width * dpi, which float rounding can put 1 px short.
        size = ((scene.width + 0.25) / dpi, (scene.height + 0.25) / dpi)
        self.figure = Figure(figsize=size, dpi=dpi, facecolor=BACKGROUND)
        self.canvas = FigureCanvasAgg(self.figure)
        strip = LEGEND_STRIP_PX / BASE_HEIGHT_PX
        self.ax = self.figure.add_axes((0, strip, 1, 1 - strip))
        self.ax.set_axis_off()
        self.half = self._half_extent(scene, 1 - strip)
        self.step = _grid_step(2 * min(self.half))
        self.grid = LineCollection([], colors=GRID_COLOR, linewidths=0.8, animated=True)
        self.ax.add_collection(self.grid)
        self.lines = {k: self.ax.plot([], [], animated=True, **s)[0] for k, s in STYLE.items()}
        box = self.ax.text(
            s=_label(_widest(scene.times)),
            transform=self.ax.transAxes,
            color="none",  # only the box: the text is drawn per frame, over it
            bbox=LABEL_BOX,
            **LABEL,
        )
        self.label = self.ax.text(s="", transform=self.ax.transAxes, animated=True, **LABEL)
        legend = self._legend(with_truth=scene.truth is not None)
        self.canvas.draw()  # everything not animated: the background, legend and label box
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        # Pasted back over the moving parts, so the legend and the label's box stay on top.
        renderer = self.canvas.get_renderer()
        on_top = [legend, box.get_bbox_patch()]
        self.on_top = [
            self.canvas.copy_from_bbox(artist.get_window_extent(renderer).padded(2))
            for artist in on_top
            if artist is not None
        ]

    def _legend(self, with_truth: bool) -> Any:
        """Every mark of the frame explained, in the strip below the view, and the grid's size."""
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        shown = [(keys, text) for keys, text in LEGEND if with_truth or "truth" not in keys]
        handles: list[Any] = [tuple(Line2D([], [], **STYLE[k]) for k in keys) for keys, _ in shown]
        handles.append(Rectangle((0, 0), 1, 1, fc="none", ec=GRID_COLOR, lw=1.5))
        texts = [text for _, text in shown] + [f"grid squares: {self.step:g} m"]
        return self.figure.legend(
            handles,
            texts,
            loc="lower center",
            ncol=3,
            frameon=False,
            fontsize=8,
            handlelength=2.2,
            columnspacing=1.2,
            borderaxespad=0.3,
        )

    @staticmethod
    def _half_extent(scene: Scene, height_share: float) -> tuple[float, float]:
        """Half the view's width and height in metres; x and y share one scale.

        The view is the frame less the legend's strip: `height_share` of its height.
        """
        track = scene.truth or scene.states
        low, high = np.percentile(np.column_stack([track.x, track.y]), [1, 99], axis=0)
        span = float(max(np.max(high - low), 1e-6))
        short = span / scene.zoom_factor / 2
        ratio = scene.width / (scene.height * height_share)
        return (short * ratio, short) if ratio >= 1 else (short, short / ratio)

    def draw(self, index: int, out: np.ndarray | None = None) -> np.ndarray:
        """Render frame `index` of the scene into `out` (a new (H, W, 3) uint8 array if None)."""
        scene = self.scene
        t, (cx, cy), (hx, hy) = float(scene.times[index]), scene.centres[index], self.half
        self.ax.set_xlim(cx - hx, cx + hx)
        self.ax.set_ylim(cy - hy, cy + hy)
        self._update_grid(cx, cy)
        self._update_tracks(t)
        self.label.set_text(_label(t))
        self.canvas.restore_region(self.background)
        self.ax.draw_artist(self.grid)
        for line in self.lines.values():
            self.ax.draw_artist(line)
        for region in self.on_top:
            self.canvas.restore_region(region)
        self.ax.draw_artist(self.label)
        rgba = np.asarray(self.canvas.buffer_rgba())
        if out is None:
            out = np.empty((*rgba.shape[:2], 3), dtype=np.uint8)
        # Channel by channel is 4x faster than copying a strided (H, W, 3) slice at once.
        for channel in range(3):
            out[:, :, channel] = rgba[:, :, channel]
        return out

    def _update_grid(self, cx: float, cy: float) -> None:
        (hx, hy), step = self.half, self.step
        xs = np.arange(np.floor((cx - hx) / step), np.ceil((cx + hx) / step) + 1) * step
        ys = np.arange(np.floor((cy - hy) / step), np.ceil((cy + hy) / step) + 1) * step
        segments = [[(x, cy - hy), (x, cy + hy)] for x in xs]
        segments += [[(cx - hx, y), (cx + hx, y)] for y in ys]
        self.grid.set_segments(segments)

    def _update_tracks(self, t: float) -> None:
        scene, lines = self.scene, self.lines
        states, measured, truth = scene.states, scene.measured, scene.truth
        trail = states.window(t - scene.trail_s, t)
        seen = measured.window(t - scene.trail_s, t)
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
            past = truth.window(t - scene.trail_s, t)
            tx, ty = truth.at(t)
            lines["truth"].set_data(np.append(truth.x[past], tx), np.append(truth.y[past], ty))
            lines["truth_now"].set_data([tx], [ty])


def _label(t: float) -> str:
    return f"t = {t:.2f} s"


def _widest(times: np.ndarray) -> float:
    """The time whose label is longest (the digits of the demo's font share one width)."""
    extremes = [float(times.min()), float(times.max())]
    return max(extremes, key=lambda t: len(_label(t)))
