"""`summary.png` of a sweep: each metric against the swept parameters, the best job marked.

One swept parameter: a line. Two: a heatmap, one cell a job. More: a panel per parameter
with one line per combination of the others' values. Points are never joined across values
of another parameter, so a line always shows one parameter's effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Point", "plot_summary", "summary_figure"]

MAX_LINES = 12  # more combinations than this in one panel read as noise: the legend says so


@dataclass(frozen=True)
class Point:
    """One completed job: its swept values (as given) and its metrics."""

    values: dict[str, str]
    metrics: dict[str, float]


@dataclass(frozen=True)
class _Panel:
    """One metric's data: the value of each job that logged it, and which job is best."""

    metric: str
    direction: str | None
    points: list[tuple[dict[str, str], float]]

    @property
    def best(self) -> tuple[dict[str, str], float] | None:
        if self.direction is None or not self.points:
            return None
        pick = min if self.direction == "minimize" else max
        return pick(self.points, key=lambda p: p[1])

    def title(self, swept: Sequence[str]) -> str:
        if self.best is None:
            return f"{self.metric} (no objective set: no best job)"
        values, value = self.best
        at = ", ".join(f"{_short(k)}={values[k]}" for k in swept)
        return f"{self.metric} ({self.direction})\nbest: {value:.4g} at {at}"


def plot_summary(
    path: Path, points: list[Point], swept: list[str], objective: tuple[str, str] | None
) -> None:
    """Write `path`: a row of panels per metric; `objective` is (metric, direction) or None."""
    summary_figure(points, swept, objective).savefig(path, dpi=100)


def summary_figure(
    points: list[Point], swept: list[str], objective: tuple[str, str] | None
) -> Figure:
    """The figure of `plot_summary`, not yet saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = _panels(points, objective)
    columns = 1 if len(swept) <= 2 else len(swept)
    figure = Figure(figsize=(7.5 if columns == 1 else 5.5 * columns, 4.2 * max(1, len(panels))))
    FigureCanvasAgg(figure)
    if not panels or not swept:
        figure.text(0.5, 0.5, "no parameter swept, or no metric logged", ha="center")
    for row, panel in enumerate(panels if swept else []):
        _draw_row(figure, row, len(panels), columns, panel, swept)
    figure.tight_layout()
    # tight_layout leaves a placeholder layout engine, for which savefig lays the whole figure
    # out once more before drawing it (a third of the drawing's time); the layout is done.
    figure.set_layout_engine(None)
    return figure


def _panels(points: list[Point], objective: tuple[str, str] | None) -> list[_Panel]:
    """One panel per metric (the objective's first); steps' durations left out."""
    names = sorted({m for p in points for m in p.metrics if not m.startswith("seconds.")})
    if objective is not None and objective[0] in names:
        names.remove(objective[0])
        names.insert(0, objective[0])
    return [
        _Panel(
            name,
            objective[1] if objective is not None and objective[0] == name else None,
            [
                (p.values, p.metrics[name])
                for p in points
                if math.isfinite(p.metrics.get(name, math.nan))
            ],
        )
        for name in names
    ]


def _draw_row(
    figure: Figure, row: int, rows: int, columns: int, panel: _Panel, swept: list[str]
) -> None:
    """The metric's row: a line, a heatmap, or a panel per parameter; the title on its first."""
    first = figure.add_subplot(rows, columns, row * columns + 1)
    if len(swept) == 1:
        _lines(first, panel, swept[0], [])
    elif len(swept) == 2:
        _heatmap(figure, first, panel, swept[0], swept[1])
    else:
        for column, key in enumerate(swept):
            axes = (
                first
                if column == 0
                else figure.add_subplot(rows, columns, row * columns + column + 1)
            )
            _lines(axes, panel, key, [k for k in swept if k != key])
    first.set_title(panel.title(swept), loc="left")


def _lines(axes: Axes, panel: _Panel, key: str, others: list[str]) -> None:
    """The metric against `key`: one line per combination of the `others`' values."""
    xs = _levels([v[key] for v, _ in panel.points], spaced=False)
    groups: dict[tuple[str, ...], list[tuple[float, float]]] = {}
    for values, value in panel.points:
        groups.setdefault(tuple(values[k] for k in others), []).append((xs[values[key]], value))
    for number, (group, pairs) in enumerate(sorted(groups.items())):
        pairs.sort()
        label = ", ".join(f"{_short(k)}={v}" for k, v in zip(others, group, strict=True))
        shown = number < MAX_LINES
        axes.plot(*zip(*pairs, strict=True), "o-", label=label if shown else None, alpha=0.85)
    if others:
        extra = len(groups) - MAX_LINES
        title = f"+{extra} more lines" if extra > 0 else None
        axes.legend(fontsize="small", title=title, title_fontsize="small")
    if panel.best is not None:
        values, value = panel.best
        axes.plot(
            [xs[values[key]]],
            [value],
            marker="*",
            markersize=16,
            color="crimson",
            linestyle="none",
            zorder=5,
            label=None,
        )
    _ticks(axes.set_xticks, axes.set_xticklabels, xs)
    axes.set_xlabel(_short(key))
    axes.set_ylabel(panel.metric)
    axes.grid(alpha=0.3)


def _heatmap(figure: Figure, axes: Axes, panel: _Panel, x_key: str, y_key: str) -> None:
    """The metric over two parameters: a cell per pair of values, each with its number."""
    import numpy as np

    xs = _levels([v[x_key] for v, _ in panel.points])
    ys = _levels([v[y_key] for v, _ in panel.points])
    grid = np.full((len(ys), len(xs)), np.nan)
    for values, value in panel.points:
        grid[int(ys[values[y_key]]), int(xs[values[x_key]])] = value
    reverse = panel.direction == "maximize"
    image = axes.imshow(
        grid, origin="lower", aspect="auto", cmap="viridis_r" if not reverse else "viridis"
    )
    figure.colorbar(image, ax=axes, label=panel.metric)
    for (y, x), value in np.ndenumerate(grid):
        if not math.isnan(value):
            light = (image.norm(value) > 0.5) == reverse  # the colour map's yellow end
            color = "black" if light else "white"
            axes.text(x, y, f"{value:.3g}", ha="center", va="center", color=color, fontsize=9)
    if panel.best is not None:
        values, _ = panel.best
        x, y = xs[values[x_key]], ys[values[y_key]]
        axes.add_patch(_cell_outline(x, y))
    _ticks(axes.set_xticks, axes.set_xticklabels, xs)
    _ticks(axes.set_yticks, axes.set_yticklabels, ys)
    axes.set_xlabel(_short(x_key))
    axes.set_ylabel(_short(y_key))


def _cell_outline(x: float, y: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="crimson", linewidth=3)


def _levels(values: list[str], spaced: bool = True) -> dict[str, float]:
    """Each distinct value's position on an axis, in numeric order when all are numbers.

    Numbers sit at their value unless `spaced` (a heatmap's cells); other values are evenly
    spaced, in the order the jobs had them.
    """
    distinct = list(dict.fromkeys(values))
    numbers = {v: _number(v) for v in distinct}
    if any(n is None for n in numbers.values()):
        return {value: float(index) for index, value in enumerate(distinct)}
    distinct.sort(key=lambda v: numbers[v] or 0.0)
    if spaced:
        return {value: float(index) for index, value in enumerate(distinct)}
    return {value: float(numbers[value] or 0.0) for value in distinct}


def _ticks(set_ticks: Any, set_labels: Any, levels: dict[str, float]) -> None:
    set_ticks(list(levels.values()))
    set_labels(list(levels))


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _short(key: str) -> str:
    return key.removeprefix("pipeline.")
