"""What a sweep prints: jobs done as they finish, and the table of its jobs at the end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from nexus.app.sweep_console import SweepProgress, print_table
from nexus.app.sweeps import SweepJob


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _manifest(folder: Path, status: str) -> None:
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(f'{{"status": "{status}"}}')


def test_sweep_progress_counts_finished_jobs_from_their_manifests(tmp_path):
    clock, out = Clock(), io.StringIO()
    watcher = SweepProgress(tmp_path, total=4, stream=out, clock=clock)
    _manifest(tmp_path / "0", "completed")
    _manifest(tmp_path / "1", "running")
    clock.now += 10
    watcher.poll()
    watcher.poll()  # nothing new: no line
    _manifest(tmp_path / "2", "failed")
    clock.now += 10
    watcher.stop()

    assert out.getvalue().splitlines() == [
        "sweep: 1/4 jobs done, ~30s left",
        "sweep: 2/4 jobs done (1 failed), ~20s left",
    ]


def _jobs(sweep: Path) -> list[SweepJob]:
    common = {"case": "toy", "tracking.uri": "sqlite:///x.db"}
    return [
        SweepJob(0, sweep / "0", "completed", {**common, "pipeline.f": "1.3726785846315224"},
                 {"rmse": 0.51234567, "seconds.Double": 0.1}, ""),
        SweepJob(1, sweep / "1", "failed", {**common, "pipeline.f": "2"}, {},
                 "factor [2] is the one that fails"),
    ]  # fmt: skip


def test_the_table_shows_swept_values_the_metric_and_failures_one_line_each(tmp_path):
    out = io.StringIO()

    print_table(_jobs(tmp_path), tmp_path, ["case", "pipeline.f"], ["rmse"], stream=out)

    assert out.getvalue().splitlines() == [
        f"sweep {tmp_path}: 2 jobs, 1 completed, 1 failed",
        "  #  pipeline.f      rmse  status     error / log",
        "  0     1.37268  0.512346  completed",
        f"  1           2            failed     factor [2] is the one that fails "
        f"(log: {tmp_path / '1' / 'nexus.log'})",
    ]


def test_a_table_of_completed_jobs_has_no_error_column(tmp_path):
    out = io.StringIO()

    print_table(_jobs(tmp_path)[:1], tmp_path, ["pipeline.f"], ["rmse"], stream=out)

    assert out.getvalue().splitlines()[1:] == [
        "  #  pipeline.f      rmse  status",
        "  0     1.37268  0.512346  completed",
    ]


@pytest.mark.parametrize(
    ("kind", "no_color", "coloured"),
    [(Terminal, None, True), (Terminal, "1", False), (io.StringIO, None, False)],
    ids=["terminal", "terminal-NO_COLOR", "pipe"],
)
def test_colour_only_on_a_terminal_without_no_color(
    tmp_path, monkeypatch, kind, no_color, coloured
):
    stream = kind()
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", no_color)

    print_table(_jobs(tmp_path), tmp_path, ["pipeline.f"], ["rmse"], stream=stream)

    assert ("\x1b[" in stream.getvalue()) is coloured
