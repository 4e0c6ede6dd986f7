"""A sweep's console, piped (a log, CI) and on a real terminal: what the user reads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from e2e_helpers import HERE, nexus
from terminal_helpers import COLOUR, in_terminal, screen


def _table(stdout: str) -> list[str]:
    """The sweep's table: its header line and the rows under it."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  #  "))
    return [line for line in lines[start:] if line.startswith("  ")]


def test_a_piped_sweep_shows_the_metric_hides_internals_and_has_no_colour(toy_project: Path):
    result = nexus(toy_project, "case=toy", "pipeline.factor=1,2", "-m")

    assert result.code == 0, result.stderr
    assert "tracking.parent_run_id" not in result.stdout + result.stderr
    assert "\t#0 : case=toy pipeline.factor=1\n" in result.stdout  # Hydra's line for the job
    assert "\x1b" not in result.stdout + result.stderr
    header, *rows = _table(result.stdout)
    assert header.split() == ["#", "pipeline.factor", "total", "status"]
    totals = [float(row.split()[2]) for row in rows]
    assert totals[1] == pytest.approx(2 * totals[0])  # the toy's sum doubles with the factor


def test_an_optuna_search_piped_prints_no_alembic_lines_and_no_colour(toy_project: Path):
    result = nexus(
        toy_project,
        "case=toy",
        "hydra/sweeper=optuna",
        "pipeline.factor=interval(1,2)",
        "hydra.sweeper.n_trials=2",
        "objective.metric=total",
        "-m",
    )

    assert result.code == 0, result.stderr
    output = result.stdout + result.stderr
    assert "setup plugin" not in output
    assert not COLOUR.search(output)
    assert "A new study created in memory" in result.stdout  # Optuna's line, in nexus's format
    header, *rows = _table(result.stdout)
    assert header.split() == ["#", "pipeline.factor", "total", "status"]
    assert len(rows) == 2


@pytest.fixture
def frames_project(tmp_path: Path) -> Path:
    copy = tmp_path / "progress"
    shutil.copytree(HERE / "progress_project", copy)
    return copy


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_a_sweep_on_a_terminal_draws_no_bars_and_colours_unless_no_color(
    frames_project: Path, no_color: str | None, coloured: bool
):
    code, output = in_terminal(
        frames_project,
        "case=frames",
        "tracking.enabled=false",
        "cache=false",
        "pipeline.count=3,5",
        "-m",
        env={"NO_COLOR": no_color} if no_color else None,
    )

    assert code == 0, output
    assert "━" not in output  # jobs may run side by side: none redraws a line
    shown = screen(output)
    assert [line.split(" in ")[0] for line in shown if " Frame Maker: " in line] == [
        "#0 Frame Maker: 3 frames",
        "#1 Frame Maker: 5 frames",
    ]
    assert bool(COLOUR.search(output)) is coloured
    rows = [line for line in shown if line]
    summary = next(i for i, line in enumerate(rows) if line.startswith("summary: "))
    assert re.fullmatch(r"  1 +5 +completed", rows[summary - 1])  # the table's last row
