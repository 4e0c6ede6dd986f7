"""Progress of long work: a step's items (count, rate, time left) and a sweep's jobs done.

A plugin asks for `progress` (by name, or by the type `Progress`) and wraps its loop:

    return progress.track(frames, total=len(times), unit="frames")

On a terminal, a single run shows one line updated in place; anywhere else (a log file, CI,
a sweep's parallel jobs) it writes a plain line at every tenth of the work. `nexus.log` gets
those plain lines either way. Nothing here runs unless a step runs, so `--cfg`, `--help` and
error messages never carry progress.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO, TypeVar

__all__ = ["Progress", "SweepProgress", "format_seconds"]

T = TypeVar("T")

MILESTONES = 10  # plain lines per tracked loop: one at every tenth of the total
LIVE_INTERVAL_S = 0.1  # at most this often the live line is redrawn
UNKNOWN_TOTAL_EVERY_S = 10.0  # plain lines for a loop of unknown length: one this often
_CLEAR = "\r\x1b[K"


class Progress:
    """Reports how far a step's long loop is: count, rate and time left.

    Args:
        label: what is working, e.g. the step's name; starts every line.
        logger: where plain lines go (the console and `nexus.log`).
        stream: the terminal for the live line; default `sys.stdout`.
        live: force the live line on or off; default: on when `stream` is a terminal and
            this job is not one of a sweep's (parallel jobs would overwrite each other).
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
        job = _sweep_job()
        self.label = label if job is None else f"#{job} {label}"  # parallel jobs interleave
        self.logger = logger
        self.stream = stream if stream is not None else sys.stdout
        self.live = _live_possible(self.stream) if live is None else live
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
        meter = _Meter(self.label, unit, total, self.clock())
        with _LogLinesClear(self) if self.live else contextlib.nullcontext():
            try:
                yield from self._counted(items, meter)
            finally:
                self._clear()  # an error message must not land after a half-drawn line
                close = getattr(items, "close", None)
                if close is not None:  # a generator's own clean-up runs now, as if unwrapped
                    close()
        if self.live or not meter.reported_end:
            self.logger.info(meter.summary(self.clock()))

    def _counted(self, items: Iterator[T], meter: _Meter) -> Iterator[T]:
        drawn = -LIVE_INTERVAL_S
        for item in items:
            yield item
            now = self.clock()
            meter.add(now)
            if meter.at_milestone(now):
                self.logger.log(logging.DEBUG if self.live else logging.INFO, meter.line(now))
            if self.live and (now - drawn >= LIVE_INTERVAL_S or meter.count == meter.total):
                self._draw(meter.line(now))
                drawn = now

    def _draw(self, line: str) -> None:
        self.stream.write(_CLEAR + line)
        self.stream.flush()

    def _clear(self) -> None:
        if self.live:
            self.stream.write(_CLEAR)
            self.stream.flush()


class _LogLinesClear(logging.Filter):
    """While a live line is shown, a log line for the same terminal first erases it."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress
        self.handlers = [
            h for h in logging.getLogger().handlers if getattr(h, "stream", None) is progress.stream
        ]

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress._clear()  # the next update draws the line again, below the log line
        return True

    def __enter__(self) -> _LogLinesClear:
        for handler in self.handlers:
            handler.addFilter(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for handler in self.handlers:
            handler.removeFilter(self)


class _Meter:
    """Counts items and words the lines: `label: 90/300 frames (30%), 71.2 frames/s, 3.1s left`.

    The rate is measured from the first item on: what comes before it (opening files,
    starting worker processes) says nothing about how fast the rest will come.
    """

    def __init__(self, label: str, unit: str, total: int | None, started: float) -> None:
        self.label, self.unit, self.total, self.started = label, unit, total, started
        self.count = 0
        self.first_at: float | None = None
        self.next_milestone = 1
        self.last_timed = started
        self.reported_end = False

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
        self.reported_end = self.count >= self.total
        return True

    def rate(self, now: float) -> float | None:
        """Items per second since the first one; None until there are two."""
        if self.first_at is None or self.count < 2 or now <= self.first_at:
            return None
        return (self.count - 1) / (now - self.first_at)

    def line(self, now: float) -> str:
        rate = self.rate(now)
        if self.total:
            text = f"{self.label}: {self.count}/{self.total} {self.unit}"
            text += f" ({100 * self.count // self.total}%)"
        else:
            text = f"{self.label}: {self.count} {self.unit}"
        if rate is not None:
            text += f", {rate:.1f} {self.unit}/s"
            if self.total and self.count < self.total:
                text += f", {format_seconds((self.total - self.count) / rate)} left"
        return text

    def summary(self, now: float) -> str:
        rate = self.rate(now)
        text = f"{self.label}: {self.count} {self.unit} in {format_seconds(now - self.started)}"
        return text + (f" ({rate:.1f} {self.unit}/s)" if rate is not None else "")


class SweepProgress:
    """Watches a sweep's directory and prints `sweep: 3/8 jobs done` as jobs finish.

    It runs in the process that started the sweep and reads the jobs' `run.json` files,
    so it counts jobs of every launcher alike: in this process, in joblib workers, in
    submitit or Ray processes, or on the cluster nodes of a shared file system.
    """

    def __init__(
        self,
        sweep_dir: Path,
        total: int | None,
        stream: TextIO | None = None,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sweep_dir = sweep_dir
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        self.interval_s = interval_s
        self.clock = clock
        self.started = clock()
        self.reported = 0
        self._final: dict[str, str] = {}  # job folder -> its final status
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="nexus-sweep", daemon=True)

    def start(self) -> SweepProgress:
        """Start watching in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching, after reporting the jobs that finished meanwhile."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.poll()

    def poll(self) -> None:
        """Print a line if more jobs have finished since the last one."""
        with self._lock:  # the watcher thread and a job ending in this process
            done, failed = self._count()
            if done > self.reported:
                self.reported = done
                self.stream.write(self.line(done, failed, self.clock()) + "\n")
                self.stream.flush()

    def line(self, done: int, failed: int, now: float) -> str:
        """`sweep: 3/8 jobs done (1 failed), ~40s left`."""
        total = f"/{self.total}" if self.total else ""
        text = f"sweep: {done}{total} jobs done"
        if failed:
            text += f" ({failed} failed)"
        if self.total and done < self.total:
            per_job = (now - self.started) / done
            text += f", ~{format_seconds(per_job * (self.total - done))} left"
        return text

    def _count(self) -> tuple[int, int]:
        """Jobs finished, and how many of them did not complete; a finished job is read once."""
        from nexus.run.rundirs import MANIFEST, read_manifest

        for path in self.sweep_dir.glob(f"*/{MANIFEST}"):
            if path.parent.name not in self._final:
                status = (read_manifest(path.parent) or {}).get("status")
                if status not in (None, "running"):
                    self._final[path.parent.name] = str(status)
        failed = sum(status != "completed" for status in self._final.values())
        return len(self._final), failed

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.poll()
            except OSError:  # the directory is being written: try again next time
                continue


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


def _live_possible(stream: TextIO) -> bool:
    """A terminal that understands `\\r` and erase-line, and a job that has it to itself."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return terminal and os.environ.get("TERM", "") != "dumb" and _sweep_job() is None


def _sweep_job() -> int | None:
    """The number of this job in its sweep; None outside a sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return int(HydraConfig.get().job.num)
