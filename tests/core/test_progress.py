"""The progress service a step asks for, with a clock the test turns.

What a person sees of it on a real terminal and in a pipe is tested end to end, in
tests/e2e/test_progress_cli.py.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest

from nexus.core.progress import Progress, format_seconds

LOGGER = "test.progress"


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
    logger = logging.getLogger(LOGGER)
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


def test_off_a_terminal_the_console_gets_one_line_and_the_log_every_tenth(records):
    clock, stream = Clock(), io.StringIO()
    progress = Progress("Renderer", logging.getLogger(LOGGER), stream, clock=clock)

    assert _ticking(progress, clock, 50, 0.5) == list(range(50))

    assert not progress.live
    assert stream.getvalue() == ""  # not a terminal: only log lines
    tenths = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert len(tenths) == 10
    # The rate counts from the first frame: 4 more frames in 2 s; 45 to go at 2 per second.
    assert tenths[0] == "Renderer: 5/50 frames (10%), 2.0 frames/s, 22s left"
    assert tenths[4] == "Renderer: 25/50 frames (50%), 2.0 frames/s, 12s left"
    assert tenths[-1] == "Renderer: 50/50 frames (100%), 2.0 frames/s"
    console = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert console == ["Renderer: 50 frames in 25s (2.0 frames/s)"]


def test_off_a_terminal_a_long_loop_shows_it_is_alive_every_half_minute(records):
    clock = Clock()
    progress = Progress("Renderer", logging.getLogger(LOGGER), io.StringIO(), clock=clock)

    _ticking(progress, clock, 100, 1.0)  # 100 s: a tenth every 10 s

    console = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert [line.split(" (")[0] for line in console] == [
        "Renderer: 30/100 frames",
        "Renderer: 60/100 frames",
        "Renderer: 90/100 frames",
        "Renderer: 100 frames in 1m40s",
    ]


def test_a_terminal_keeps_the_console_to_the_live_line_and_a_summary(records):
    clock, terminal = Clock(), Terminal()
    progress = Progress("Renderer", logging.getLogger(LOGGER), terminal, clock=clock)

    _ticking(progress, clock, 20, 0.05)

    assert progress.live
    shown = terminal.getvalue()
    assert "Renderer" in shown
    assert "20/20 frames (100%), 20.0 frames/s" in shown
    assert shown.endswith("\x1b[2K")  # erased at the end: the summary follows as a log line
    assert shown.count(" frames (") <= 12  # at most ten redraws a second, and the last
    assert [r.levelno for r in records] == [logging.DEBUG] * 10 + [logging.INFO]
    assert records[-1].getMessage() == "Renderer: 20 frames in 1.0s (20.0 frames/s)"


def test_a_label_is_shown_as_written(records):
    terminal = Terminal()

    list(Progress("[red]Step[/]", logging.getLogger(LOGGER), terminal).track(range(3)))

    assert "[red]Step[/]" in terminal.getvalue()


def test_a_failure_erases_the_line_and_logs_no_summary(records):
    clock, terminal = Clock(), Terminal()
    progress = Progress("Renderer", logging.getLogger(LOGGER), terminal, clock=clock)

    def frames():
        yield from range(3)
        raise ValueError("frame 3 cannot be drawn")

    tracked = progress.track(frames(), total=10, unit="frames")
    for _ in range(3):
        next(tracked)
    with pytest.raises(ValueError, match="frame 3"):
        next(tracked)
    assert terminal.getvalue().endswith("\x1b[2K")
    assert not any("frames in" in r.getMessage() for r in records)


def test_closing_the_tracked_iterator_closes_the_wrapped_generator():
    closed = []

    def frames():
        try:
            yield from range(100)
        finally:
            closed.append(True)  # the renderer stops its worker processes here

    tracked = Progress("Renderer", logging.getLogger(LOGGER), io.StringIO()).track(
        frames(), total=100
    )
    next(tracked)
    tracked.close()
    assert closed == [True]


def test_unknown_totals_show_count_and_rate(records):
    clock = Clock()
    progress = Progress("Reader", logging.getLogger(LOGGER), io.StringIO(), clock=clock)

    for _ in progress.track(iter(range(30)), unit="rows"):
        clock.now += 1

    messages = [r.getMessage() for r in records]
    assert messages[0] == "Reader: 10 rows, 1.0 rows/s"
    assert messages[-1] == "Reader: 30 rows in 30s (1.0 rows/s)"


def test_a_dumb_terminal_gets_no_live_line(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert not Progress("x", logging.getLogger(LOGGER), Terminal()).live


def test_the_step_level_service_needs_neither_hydra_nor_rich_nor_mlflow():
    """A plugin's progress: importing it (and using it off a terminal) pulls in no framework."""
    code = (
        "import io, logging, sys\n"
        "from nexus.core.progress import Progress\n"
        "list(Progress('x', logging.getLogger('x'), io.StringIO()).track(range(3)))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'hydra', 'omegaconf', "
        "'mlflow', 'rich'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.44, "0.4s"), (9.9, "9.9s"), (12.4, "12s"), (125, "2m05s"), (3720, "1h02m")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text
