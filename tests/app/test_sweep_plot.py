"""summary.png: lines never join points across another parameter's values; best marked."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from nexus.app.sweep_plot import Point, plot_summary, summary_figure


def _grid(**values: list[str]) -> list[Point]:
    keys = list(values)
    return [
        Point(
            dict(zip(keys, combo, strict=True)), {"rmse": sum(map(_value, combo)), "seconds.a": 1}
        )
        for combo in itertools.product(*values.values())
    ]


def _value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float(len(text))


def _data_lines(axes) -> list:
    return [line for line in axes.get_lines() if line.get_marker() == "o"]


def test_one_line_per_value_of_the_other_parameters_with_three_swept() -> None:
    points = _grid(a=["1", "2", "3"], b=["10", "20"], c=["0", "5"])

    figure = summary_figure(points, ["a", "b", "c"], ("rmse", "minimize"))

    first, second, third = figure.axes
    assert [len(_data_lines(axes)) for axes in figure.axes] == [4, 6, 6]
    assert all(len(line.get_xdata()) == 3 for line in _data_lines(first))
    assert all(len(line.get_xdata()) == 2 for line in _data_lines(second) + _data_lines(third))
    assert sorted(t.get_text() for t in first.get_legend().get_texts()) == [
        "b=10, c=0",
        "b=10, c=5",
        "b=20, c=0",
        "b=20, c=5",
    ]
    assert first.get_title(loc="left") == "rmse (minimize)\nbest: 11 at a=1, b=10, c=0"
    stars = [line for axes in figure.axes for line in axes.get_lines() if line.get_marker() == "*"]
    assert [(s.get_xdata()[0], s.get_ydata()[0]) for s in stars] == [(1, 11), (10, 11), (0, 11)]


def test_two_swept_parameters_make_a_heatmap_with_the_best_cell_outlined() -> None:
    points = _grid(**{"pipeline.x": ["0.1", "0.2", "0.3"], "pipeline.zoom": ["3", "8"]})

    figure = summary_figure(points, ["pipeline.x", "pipeline.zoom"], ("rmse", "maximize"))

    heatmap = figure.axes[0]
    [image] = heatmap.get_images()
    assert image.get_array().shape == (2, 3)  # zoom down, x across: one cell a job
    np.testing.assert_allclose(image.get_array()[1, 2], 8.3)
    assert heatmap.get_title(loc="left") == "rmse (maximize)\nbest: 8.3 at x=0.3, zoom=8"
    [outline] = heatmap.patches
    assert outline.get_xy() == (1.5, 0.5)  # the cell of x=0.3, zoom=8
    assert [t.get_text() for t in heatmap.get_xticklabels()] == ["0.1", "0.2", "0.3"]


def test_without_an_objective_no_job_is_called_best(tmp_path: Path) -> None:
    points = _grid(a=["1", "2"])

    figure = summary_figure(points, ["a"], None)
    plot_summary(tmp_path / "summary.png", points, ["a"], None)

    assert figure.axes[0].get_title(loc="left") == "rmse (no objective set: no best job)"
    assert not [line for line in figure.axes[0].get_lines() if line.get_marker() == "*"]
    assert (tmp_path / "summary.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("values", [["low", "high"], ["1", "x"]], ids=["words", "mixed"])
def test_values_that_are_not_all_numbers_keep_their_order(values: list[str]) -> None:
    figure = summary_figure(_grid(a=values), ["a"], ("rmse", "minimize"))

    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == values


def test_the_png_is_laid_out_once_and_comes_out_as_with_the_layout_left_to_savefig(
    tmp_path: Path,
) -> None:
    points = _grid(**{"pipeline.x": ["0.1", "0.2"], "pipeline.zoom": ["3", "8"], "c": ["a"]})
    swept = ["pipeline.x", "pipeline.zoom", "c"]

    figure = summary_figure(points, swept, ("rmse", "minimize"))
    assert figure.get_layout_engine() is None  # savefig does not lay it out again
    figure.savefig(tmp_path / "once.png", dpi=100)
    again = summary_figure(points, swept, ("rmse", "minimize"))
    again.tight_layout()  # which leaves a placeholder engine: savefig lays it out again
    assert again.get_layout_engine() is not None
    again.savefig(tmp_path / "twice.png", dpi=100)

    assert (tmp_path / "once.png").read_bytes() == (tmp_path / "twice.png").read_bytes()
