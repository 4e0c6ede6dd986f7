"""Progress a person can follow: a long step's items, and a sweep's jobs, on the console.

`python -m nexus` runs on a real terminal (a pseudo-terminal) and piped, with the progress
project's Frame Maker, which streams its frames through `progress.track` as the demo's
renderer does. The service itself is tested in tests/test_progress.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from e2e_helpers import HERE, nexus
from terminal_helpers import in_terminal, screen

# Progress is the point here: not MLflow, nor the cache's line per step.
QUIET = ("case=frames", "tracking.enabled=false", "cache=false")


# --- the command line, with the progress project ---------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "progress"
    shutil.copytree(HERE / "progress_project", copy)
    return copy


def _log(project: Path) -> str:
    return next((project / "outputs" / "frames").glob("*/nexus.log")).read_text()


def test_piped_output_gets_one_progress_line_and_the_log_every_tenth(project):
    result = nexus(project, *QUIET, "pipeline.count=40")

    assert result.code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("Frame Maker:")]
    assert len(lines) == 1
    assert re.fullmatch(r"Frame Maker: 40 frames in [\d.]+s \([\d.]+ frames/s\)", lines[0])
    assert "\r" not in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
    tenths = re.findall(r"DEBUG .*Frame Maker: (\d+)/40 frames", _log(project))
    assert tenths == [str(n) for n in range(4, 41, 4)]


def test_a_terminal_shows_a_live_bar_and_leaves_the_summary(project):
    code, output = in_terminal(project, *QUIET, "pipeline.delay_s=0.01")

    assert code == 0, output
    assert "1/40 frames (2%)" in output  # drawn while the frames came
    assert "━" in output  # with a bar
    shown = screen(output)
    assert [line for line in shown if "Frame Maker" in line] == [
        "[1/1] Frame Maker",
        next(line for line in shown if line.startswith("Frame Maker: 40 frames in")),
        next(line for line in shown if line.startswith("[1/1] Frame Maker done in")),
    ]
    assert re.search(r"DEBUG .*Frame Maker: 20/40 frames \(50%\)", _log(project))


def test_a_narrow_terminal_still_gets_one_line_not_a_stack_of_wrapped_ones(project):
    code, output = in_terminal(project, *QUIET, "pipeline.delay_s=0.01", columns=40)

    assert code == 0, output
    shown = [line for line in screen(output, columns=40) if line]
    assert shown[:2] == ["[1/1] Frame Maker", shown[1]]
    assert shown[1].startswith("Frame Maker: 40 frames in")  # then the summary, wrapped
    assert not [line for line in shown if re.search(r"\d+/40 frames|left$", line)]


def test_log_lines_during_a_live_bar_appear_above_it(project):
    code, output = in_terminal(project, *QUIET, "pipeline.delay_s=0.01", "pipeline.warn_at=20")

    assert code == 0, output
    shown = screen(output)
    assert "warning: frame 20 is odd" in shown  # a whole line, not one glued to the bar
    assert shown.index("warning: frame 20 is odd") < next(
        i for i, line in enumerate(shown) if line.startswith("Frame Maker: 40 frames in")
    )


def test_an_error_in_a_terminal_starts_on_a_clean_line(project):
    code, output = in_terminal(project, *QUIET, "pipeline.delay_s=0.01", "pipeline.fail_at=20")

    assert code == 1
    error = next(line for line in screen(output) if "failed" in line)
    assert error.startswith("nexus: step 'Frame Maker' failed: ValueError: frame 20 cannot")


@pytest.mark.parametrize("args", [("--cfg", "job"), ("--help",), ("pipeline.count=-1",)])
def test_no_progress_where_nothing_runs(project, args):
    _, output = in_terminal(project, *QUIET, *args)

    assert not re.search(r"Frame Maker: \d", output)  # --cfg shows the step's wiring by name
    assert "\x1b[2K" not in output
    assert "━" not in output
    assert "sweep:" not in output


def test_a_sweep_counts_its_jobs_and_gives_each_job_one_progress_line(project):
    result = nexus(project, "case=frames", "pipeline.count=3,5,7", "-m")

    assert result.code == 0, result.stderr
    done = [line for line in result.stdout.splitlines() if line.startswith("sweep: ")]
    assert [line.split(",")[0] for line in done] == [
        "sweep: 1/3 jobs done",
        "sweep: 2/3 jobs done",
        "sweep: 3/3 jobs done",
    ]
    progress = [line for line in result.stdout.splitlines() if " Frame Maker: " in line]
    assert [line.split(" in ")[0] for line in progress] == [
        "#0 Frame Maker: 3 frames",
        "#1 Frame Maker: 5 frames",
        "#2 Frame Maker: 7 frames",
    ]


def test_a_parallel_sweep_counts_jobs_done_in_other_processes(project):
    result = nexus(
        project,
        "case=frames",
        "pipeline.count=3,5,7,9",
        "pipeline.fail_at=4",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "-m",
    )

    assert result.code == 1  # the jobs of 5, 7 and 9 frames fail at frame 4
    done = [line for line in result.stdout.splitlines() if line.startswith("sweep: ")]
    counts = [int(re.match(r"sweep: (\d+)/4", line).group(1)) for line in done]
    assert counts == sorted(set(counts))
    assert done[-1] == "sweep: 4/4 jobs done (3 failed)"
