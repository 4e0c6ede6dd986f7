"""Progress of a step's long loop: count, rate and time left.

A plugin asks for `progress` (by name, or by the type `Progress`) and wraps its loop:

    return progress.track(frames, total=len(times), unit="frames")

On a terminal, one line with a bar is redrawn in place (drawn by rich), and log lines appear
above it. Anywhere else (a log file, CI, a sweep's jobs) the console gets one line when the
loop ends, and one every half minute of a long loop. `nexus.log` gets a line at every tenth
of the work either way. Nothing here runs unless a step runs, so `--cfg`, `--help` and error
messages never carry progress; nothing here knows about Hydra or sweeps: whoever makes the
service names the job in its label and turns the live line off where jobs run side by side.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TextIO, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Progress", "format_seconds"]

T = TypeVar("T")

MILESTONES = 10  # lines in nexus.log per tracked loop: one at every tenth of the total
UNKNOWN_TOTAL_EVERY_S = 10.0  # nexus.log lines for a loop of unknown length: one this often
CONSOLE_EVERY_S = 30.0  # off a terminal, a long loop shows it is alive this often
LIVE_INTERVAL_S = 0.1  # at most this often the live line is redrawn


class Progress:
    """Reports how far a step's long loop is: count, rate and time left.

    Args:
        label: what is working, e.g. the step's name; starts every line.
        logger: where the lines go (the console and `nexus.log`).
        stream: the terminal for the live line; default `sys.stdout`.
        live: force the live line on or off; default: on when `stream` is a terminal.
        clock: seconds, monotonic; tests pass their own.
    """

    def __init__(
        self,
        label: str,
        logger: logging.Logger,
        stream: TextIO | None = None,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.logger = logger
        self.stream = stream if stream is not None else sys.stdout
        self.live = _is_terminal(self.stream) if live is None else live
        self.clock = clock

    def track(
        self, items: Iterable[T], total: int | None = None, unit: str = "items"
    ) -> Iterator[T]:
        """Yield `items` unchanged, reporting progress as they are consumed.

        `total` defaults to `len(items)` when it has one. The iterator is lazy: a step that
        returns it streams its output, and progress shows how fast the sink takes it.
        """
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        return self._tracked(iter(items), total, unit)

    def _tracked(self, items: Iterator[T], total: int | None, unit: str) -> Iterator[T]:
        meter = _Meter(self.label, unit, total)
        with self._live_line(meter) if self.live else contextlib.nullcontext() as redraw:
            shown = meter.start(self.clock())  # after rich's imports: not the loop's time
            try:
                for item in items:
                    yield item
                    now = self.clock()
                    meter.add(now)
                    if meter.at_milestone(now):
                        loud = not self.live and now - shown >= CONSOLE_EVERY_S
                        shown = now if loud else shown
                        self.logger.log(logging.INFO if loud else logging.DEBUG, meter.line(now))
                    if redraw is not None:
                        redraw(now)
            finally:
                close = getattr(items, "close", None)
                if close is not None:  # a generator's own clean-up runs now, as if unwrapped
                    close()
        # After the live line is gone: the summary stays, the line does not.
        self.logger.info(meter.summary(self.clock()))

    @contextlib.contextmanager
    def _live_line(self, meter: _Meter) -> Iterator[Callable[[float], None]]:
        """A bar redrawn in place while the loop runs, erased when it ends (even by an error)."""
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as Bar

        console = Console(file=self.stream, force_terminal=True)
        bar = Bar(
            TextColumn("{task.fields[label]}", markup=False),  # a step's name is plain text
            BarColumn(bar_width=None),  # what the text leaves: the text first
            TextColumn("{task.description}", markup=False),
            console=console,
            transient=True,
            get_time=self.clock,
            expand=True,
            auto_refresh=False,  # no drawing thread: steps fork workers inside the loop
        )
        task = bar.add_task(meter.status(0.0), total=meter.total, label=meter.label)
        updated = -LIVE_INTERVAL_S

        def redraw(now: float) -> None:
            nonlocal updated
            if now - updated >= LIVE_INTERVAL_S or meter.count == meter.total:
                bar.update(task, completed=meter.count, description=meter.status(now), refresh=True)
                updated = now

        with bar, _logs_above(console):
            yield redraw


@contextlib.contextmanager
def _logs_above(console: Console) -> Iterator[None]:
    """While a live line is shown, log lines for its terminal are printed above it."""
    from rich.file_proxy import FileProxy

    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and h.stream is console.file
    ]
    for handler in handlers:
        handler.setStream(FileProxy(console, console.file))
    try:
        yield
    finally:
        for handler in handlers:
            handler.setStream(console.file)


class _Meter:
    """Counts items and words the lines: `label: 90/300 frames (30%), 71.2 frames/s, 3.1s left`.

    The rate is measured from the first item on: what comes before it (opening files,
    starting worker processes) says nothing about how fast the rest will come.
    """

    def __init__(self, label: str, unit: str, total: int | None) -> None:
        self.label, self.unit, self.total = label, unit, total
        self.count = 0
        self.first_at: float | None = None
        self.next_milestone = 1
        self.started = self.last_timed = 0.0

    def start(self, now: float) -> float:
        """The loop starts at `now` (returned)."""
        self.started = self.last_timed = now
        return now

    def add(self, now: float) -> None:
        """One more item, done at `now`."""
        self.count += 1
        if self.first_at is None:
            self.first_at = now

    def at_milestone(self, now: float) -> bool:
        """True once per tenth of a known total, or every few seconds of an unknown one."""
        if not self.total:
            if now - self.last_timed < UNKNOWN_TOTAL_EVERY_S:
                return False
            self.last_timed = now
            return True
        reached = self.count * MILESTONES // self.total
        if reached < self.next_milestone:
            return False
        self.next_milestone = reached + 1
        return True

    def rate(self, now: float) -> float | None:
        """Items per second since the first one; None until there are two."""
        if self.first_at is None or self.count < 2 or now <= self.first_at:
            return None
        return (self.count - 1) / (now - self.first_at)

    def status(self, now: float) -> str:
        """`90/300 frames (30%), 71.2 frames/s, 3.1s left`."""
        rate = self.rate(now)
        if self.total:
            text = f"{self.count}/{self.total} {self.unit} ({100 * self.count // self.total}%)"
        else:
            text = f"{self.count} {self.unit}"
        if rate is not None:
            text += f", {rate:.1f} {self.unit}/s"
            if self.total and self.count < self.total:
                text += f", {format_seconds((self.total - self.count) / rate)} left"
        return text

    def line(self, now: float) -> str:
        return f"{self.label}: {self.status(now)}"

    def summary(self, now: float) -> str:
        rate = self.rate(now)
        text = f"{self.label}: {self.count} {self.unit} in {format_seconds(now - self.started)}"
        return text + (f" ({rate:.1f} {self.unit}/s)" if rate is not None else "")


def format_seconds(seconds: float) -> str:
    """`0.4s`, `12s`, `2m05s`, `1h02m`: short enough for a progress line."""
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _is_terminal(stream: TextIO) -> bool:
    """A terminal that can redraw a line (not `TERM=dumb`)."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return terminal and os.environ.get("TERM", "") != "dumb"
