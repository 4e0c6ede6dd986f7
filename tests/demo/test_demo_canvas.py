"""The demo's frame: its legend explains every mark, and hides no part of the track."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # nexus imports plugins/ as `plugins.<...>` from the project root
    sys.path.insert(0, str(ROOT))

from plugins.demo.canvas import Canvas, Scene, Track  # noqa: E402


def _diagonal_scene(centre: tuple[float, float] = (2.0, -2.0), truth: bool = True) -> Scene:
    """A track running diagonally from (0, 0) to (4, -4), the whole of it drawn at t=4."""
    t = np.linspace(0, 4, 121)
    track = Track(t, t, -t)
    times = np.array([2.0, 4.0])
    centres = np.array([centre, centre])
    return Scene(640, 480, 1, 4.0, track, track, track if truth else None, times, centres)


def test_the_legend_lies_below_the_view_and_names_every_mark() -> None:
    canvas = Canvas(_diagonal_scene())
    renderer = canvas.canvas.get_renderer()

    [legend] = canvas.figure.legends
    view = canvas.ax.get_window_extent(renderer)
    box = legend.get_window_extent(renderer)
    assert box.y1 <= view.y0 + 1  # entirely in the strip below the view: it covers no track
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == [
        "measurements (late, noisy)",
        "latest measurement",
        "latest measurement to prediction",
        "predicted state, its trail",
        "ground truth, its trail",
        "grid squares: 1 m",
    ]
    styles = [(a.get_linestyle(), a.get_marker(), a.get_color()) for a in legend.findobj(Line2D)]
    assert ("None", "o", "tab:orange") in styles  # the latest measurement's orange dot
    assert (":", "None", "tab:orange") in styles  # its dotted line to the prediction
    assert ("--", "None", "0.15") in styles  # the ground truth's dashed trail


def test_the_track_shows_in_the_lower_right_of_the_view() -> None:
    hx, hy = Canvas(_diagonal_scene()).half
    # The view placed so that the track's end, (4, -4), lies near its lower right corner.
    canvas = Canvas(_diagonal_scene((4 - 0.95 * hx, -4 + 0.95 * hy), truth=False))
    frame = canvas.draw(1)
    view = canvas.ax.get_window_extent(canvas.canvas.get_renderer())
    height = frame.shape[0]
    # The view's lower right eighth, in image rows (from the top) and columns.
    rows = slice(int(height - view.y0 - view.height / 8), int(height - view.y0))
    columns = slice(int(view.x1 - view.width / 8), int(view.x1))
    corner = frame[rows, columns].reshape(-1, 3).astype(int)
    blue = np.array([31, 119, 180])  # tab:blue: the predicted state and its trail
    assert (np.abs(corner - blue).sum(axis=1) < 60).sum() > 50
