"""Progress a person can follow: items of a long step, and jobs of a sweep.

The service itself is tested with a clock the test turns; the command line in a real
terminal (a pseudo-terminal), piped to a file, and in sweeps, with the progress project's
Frame Maker, which streams its frames through `progress.track` as the demo's renderer does.
"""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import HERE, _clean_env, nexus

from nexus.core.progress import Progress, SweepProgress, format_seconds

CLEAR = "\r\x1b[K"
QUIET = ("case=frames", "tracking.enabled=false")  # progress is the point here, not MLflow


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def records() -> list[logging.LogRecord]:
    logger = logging.getLogger("test.progress")
    logger.setLevel(logging.DEBUG)
    found: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = found.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    yield found
    logger.removeHandler(handler)


def _ticking(progress: Progress, clock: Clock, items: int, seconds_each: float) -> list[int]:
    seen = []
    for item in progress.track(range(items), unit="frames"):
        clock.now += seconds_each
        seen.append(item)
    return seen


def test_plain_lines_at_every_tenth_with_rate_and_time_left(records):
    clock, stream = Clock(), io.StringIO()
    progress = Progress("Renderer", logging.getLogger("test.progress"), stream, clock=clock)

    assert _ticking(progress, clock, 50, 0.5) == list(range(50))

    assert not progress.live
    assert stream.getvalue() == ""  # not a terminal: only log lines
    lines = [r.getMessage() for r in records]
    assert len(lines) == 10
    assert {r.levelno for r in records} == {logging.INFO}
    # The rate counts from the first frame: 4 more frames in 2 s; 45 to go at 2 per second.
    assert lines[0] == "Renderer: 5/50 frames (10%), 2.0 frames/s, 22s left"
    assert lines[4] == "Renderer: 25/50 frames (50%), 2.0 frames/s, 12s left"
    assert lines[-1] == "Renderer: 50/50 frames (100%), 2.0 frames/s"


def test_a_terminal_gets_one_line_redrawn_and_a_summary(records):
    clock, terminal = Clock(), Terminal()
    progress = Progress("Renderer", logging.getLogger("test.progress"), terminal, clock=clock)

    _ticking(progress, clock, 20, 0.05)

    assert progress.live
    shown = terminal.getvalue()
    assert "\n" not in shown  # redrawn in place: never a new line of its own
    draws = [d for d in shown.split(CLEAR) if d]
    assert draws[0] == "Renderer: 1/20 frames (5%)"
    assert draws[-1] == "Renderer: 20/20 frames (100%), 20.0 frames/s"
    assert shown.endswith(CLEAR)  # erased at the end: the summary follows as a log line
    assert len(draws) < 20  # at most ten redraws a second
    assert records[-1].getMessage() == "Renderer: 20 frames in 1.0s (20.0 frames/s)"
    assert records[-1].levelno == logging.INFO
    # The tenths still reach the log file (DEBUG), not the terminal.
    assert [r.levelno for r in records[:-1]] == [logging.DEBUG] * 10


def test_a_failure_erases_the_line_and_logs_no_summary(records):
    clock, terminal = Clock(), Terminal()
    progress = Progress("Renderer", logging.getLogger("test.progress"), terminal, clock=clock)

    def frames():
        yield from range(3)
        raise ValueError("frame 3 cannot be drawn")

    tracked = progress.track(frames(), total=10, unit="frames")
    for _ in range(3):
        next(tracked)
    with pytest.raises(ValueError, match="frame 3"):
        next(tracked)
    assert terminal.getvalue().endswith(CLEAR)
    assert not any("frames in" in r.getMessage() for r in records)


def test_closing_the_tracked_iterator_closes_the_wrapped_generator():
    closed = []

    def frames():
        try:
            yield from range(100)
        finally:
            closed.append(True)  # the renderer stops its worker processes here

    tracked = Progress("Renderer", logging.getLogger("test.progress"), io.StringIO()).track(
        frames(), total=100
    )
    next(tracked)
    tracked.close()
    assert closed == [True]


def test_unknown_totals_show_count_and_rate(records):
    clock = Clock()
    progress = Progress("Reader", logging.getLogger("test.progress"), io.StringIO(), clock=clock)

    for _ in progress.track(iter(range(30)), unit="rows"):
        clock.now += 1

    messages = [r.getMessage() for r in records]
    assert messages[0] == "Reader: 10 rows, 1.0 rows/s"
    assert messages[-1] == "Reader: 30 rows in 30s (1.0 rows/s)"


def test_a_dumb_terminal_gets_plain_lines(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert not Progress("x", logging.getLogger("test.progress"), Terminal()).live


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.44, "0.4s"), (9.9, "9.9s"), (12.4, "12s"), (125, "2m05s"), (3720, "1h02m")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


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


# --- the command line, with the progress project ---------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "progress"
    shutil.copytree(HERE / "progress_project", copy)
    return copy


def _in_terminal(project: Path, *args: str) -> tuple[int, str]:
    """Run `python -m nexus ARGS` with a pseudo-terminal as its stdin, stdout and stderr."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "nexus", *args],
        cwd=project,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**_clean_env(), "TERM": "xterm"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=120), b"".join(chunks).decode().replace("\r\n", "\n")


def _visible(output: str) -> list[str]:
    """The lines as a terminal leaves them: what follows the last erase on each line."""
    return [line.rsplit(CLEAR, 1)[-1] for line in output.split("\n")]


def test_piped_output_gets_plain_progress_lines(project):
    result = nexus(project, *QUIET, "pipeline.count=40")

    assert result.code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("Frame Maker:")]
    assert len(lines) == 10
    assert lines[0].startswith("Frame Maker: 4/40 frames (10%)")
    assert lines[-1].startswith("Frame Maker: 40/40 frames (100%)")
    assert "\r" not in result.stdout
    log = next((project / "outputs" / "frames").glob("*/nexus.log")).read_text()
    assert "Frame Maker: 40/40 frames (100%)" in log


def test_a_terminal_shows_one_live_line_and_the_log_keeps_the_tenths(project):
    code, output = _in_terminal(project, *QUIET, "pipeline.delay_s=0.01")

    assert code == 0, output
    assert f"{CLEAR}Frame Maker: 1/40 frames (2%)" in output
    visible = _visible(output)
    assert [v for v in visible if v.startswith("Frame Maker")] == [
        next(v for v in visible if v.startswith("Frame Maker: 40 frames in"))
    ]
    log = next((project / "outputs" / "frames").glob("*/nexus.log")).read_text()
    assert re.search(r"DEBUG .*Frame Maker: 20/40 frames \(50%\)", log)


def test_an_error_in_a_terminal_starts_on_a_clean_line(project):
    code, output = _in_terminal(project, *QUIET, "pipeline.delay_s=0.01", "pipeline.fail_at=20")

    assert code == 1
    error = next(v for v in _visible(output) if "failed" in v)
    assert error.startswith("nexus: step 'Frame Maker' failed: ValueError: frame 20 cannot")


@pytest.mark.parametrize("args", [("--cfg", "job"), ("--help",), ("pipeline.count=-1",)])
def test_no_progress_where_nothing_runs(project, args):
    _, output = _in_terminal(project, *QUIET, *args)

    assert "Frame Maker:" not in output
    assert CLEAR not in output
    assert "sweep:" not in output


def test_a_sweep_counts_its_jobs_and_names_each_jobs_progress(project):
    result = nexus(project, "case=frames", "pipeline.count=3,5,7", "-m")

    assert result.code == 0, result.stderr
    done = [line for line in result.stdout.splitlines() if line.startswith("sweep: ")]
    assert [line.split(",")[0] for line in done] == [
        "sweep: 1/3 jobs done",
        "sweep: 2/3 jobs done",
        "sweep: 3/3 jobs done",
    ]
    assert "#1 Frame Maker: 5/5 frames (100%)" in result.stdout  # job 1's own lines


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
