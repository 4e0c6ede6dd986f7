"""What a sweep shows on the console: jobs done while it runs, and a table of them at the end.

The table is drawn by rich: colour only on a terminal and never with `NO_COLOR` set; off a
terminal it is plain text, one line per job however wide, for logs and CI.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from nexus.core.progress import format_seconds
from nexus.run.manifest import MANIFEST, read_manifest

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from nexus.app.sweeps import SweepJob

__all__ = ["SweepProgress", "print_table", "quiet_optuna"]

HIDDEN_KEYS = ("case", "tracking.uri")  # the same for every job, or nexus's own
STATUS_COLOURS = {"completed": "green", "failed": "red", "interrupted": "yellow"}
PLAIN_WIDTH = 10_000  # off a terminal, a row is never wrapped


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


def print_table(
    jobs: Sequence[SweepJob],
    sweep_dir: Path,
    swept: Sequence[str],
    metrics: Sequence[str],
    stream: TextIO | None = None,
) -> None:
    """The sweep's jobs: number, swept values, metrics, status, and for a failure its error."""
    console = _console(stream if stream is not None else sys.stdout)
    failed = sum(not j.ok for j in jobs)
    console.print(
        f"sweep {sweep_dir}: {len(jobs)} jobs, {len(jobs) - failed} completed, {failed} failed"
    )
    if not jobs:
        return
    with console.capture() as table:
        console.print(job_table(jobs, [k for k in swept if k not in HIDDEN_KEYS], metrics))
    # A row's last cell is padded to the column's width: no trailing blanks in a log.
    console.file.write("".join(f"  {line.rstrip()}\n" for line in table.get().splitlines()))
    console.file.flush()


def job_table(jobs: Sequence[SweepJob], keys: Sequence[str], metrics: Sequence[str]) -> Table:
    """One row per job; numbers right-aligned, long floats shortened (summary.csv has them)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0), header_style="")
    table.add_column("#", justify="right")
    for key in keys:
        table.add_column(key, justify="right" if _all_numbers(jobs, key) else "left")
    for metric in metrics:
        table.add_column(metric, justify="right")
    table.add_column("status")
    failures = any(not j.ok for j in jobs)
    if failures:
        table.add_column("error / log")
    for job in jobs:
        table.add_row(
            str(job.num),
            *(_short(job.overrides.get(k, "")) for k in keys),
            *(f"{job.metrics[m]:.6g}" if m in job.metrics else "" for m in metrics),
            Text(job.status, style=STATUS_COLOURS.get(job.status, "yellow")),
            *([_failure(job)] if failures else []),
        )
    return table


def _failure(job: SweepJob) -> Text:
    from rich.text import Text

    return Text("" if job.ok else f"{job.error} (log: {job.run_dir / 'nexus.log'})")


def quiet_optuna() -> None:
    """Optuna's lines through nexus's console format: no colour codes, no handler of its own."""
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()


def _console(stream: TextIO) -> Console:
    from rich.console import Console

    console = Console(file=stream, highlight=False, markup=False)
    if not console.is_terminal:
        console = Console(file=stream, highlight=False, markup=False, width=PLAIN_WIDTH)
    return console


def _short(value: str) -> str:
    """`1.3726785846315224` -> `1.37268`; anything else unchanged."""
    number = _number(value)
    return f"{number:.6g}" if number is not None and "." in value else value


def _all_numbers(jobs: Sequence[SweepJob], key: str) -> bool:
    return all(_number(j.overrides.get(key)) is not None for j in jobs)


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None
