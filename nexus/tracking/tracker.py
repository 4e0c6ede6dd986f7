"""The MLflow runs of a process: where the calls go, which runs are open, what went wrong.

A `Tracker` lives as long as the command (in its session) or the worker process that runs a
job; the tracking callback (`nexus.tracking.callback`) starts and ends runs through it, the
job holds its own run as a `JobRun`. Waits for a tracking server are bounded by
`tracking.timeout_s`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from nexus.run.rundirs import PARENT_RUN_KEY
from nexus.tracking.helper import Helper, InProcess, Recording
from nexus.tracking.store import TrackingError, tracking_uri

__all__ = ["DEFAULT_TIMEOUT_S", "JobRun", "Tracker", "experiment_name", "store_of"]

log = logging.getLogger("nexus.tracking.callback")

DEFAULT_TIMEOUT_S = 15.0  # tracking.timeout_s unless set
AFTER_CTRL_C_S = 1.0  # at most, for a server, once the user asked to stop


class Tracker:
    """The MLflow runs of this process: where the calls go, the runs open, what went wrong."""

    def __init__(self, recording: Recording | None = None) -> None:
        self._recording = recording
        self.open_runs: dict[str, Future[str]] = {}  # handle -> run id
        self.sweep_handles: dict[str, str] = {}  # a sweep run's id -> its handle
        self.problems: list[str] = []  # what went wrong, each once, for the end of the command
        self.timeout_s = DEFAULT_TIMEOUT_S
        self.remote = False  # whether the store is a server: only then is the helper cut short
        self.interrupted = False  # Ctrl-C (or SIGTERM): waits for a server get short

    @property
    def recording(self) -> Recording:
        """The helper while it can be used here, else the calls in-process."""
        if self._recording is None or not self._recording.usable():
            self._recording = InProcess()
        return self._recording

    def helper_pid(self) -> int | None:
        """The pid of the helper process that makes the calls, if they go to one."""
        helper = self._recording
        return helper.pid if isinstance(helper, Helper) and helper.usable() else None

    def close(self) -> None:
        """Let the recording finish its calls, the helper then ends.

        A server gets the deadline; a local store the time it needs, as a write cut short
        could leave it half-written (Ctrl-C still ends the wait).
        """
        if self._recording is not None:
            self._recording.close(self.limit_s)

    def take_problems(self) -> list[str]:
        """What went wrong recording since the last call (each once)."""
        problems, self.problems = self.problems, []
        return problems

    def report(self, problem: str) -> None:
        """Log a recording failure and keep it for the end of the command."""
        log.warning("MLflow could not record the run: %s", problem)
        if problem not in self.problems:
            self.problems.append(problem)

    def start(self, handle: str, started: Future[str]) -> None:
        """Remember a run being started, so that it is ended whatever happens."""
        self.open_runs[handle] = started

    def end(self, handle: str, status: str, **logged: Any) -> None:
        """Log `logged` (see `Recorder.log`) to an open run, then end it; waits for both."""
        self.wait_all(self.closing(handle, status, **logged))

    def end_open_runs(self, status: str) -> None:
        """End every MLflow run this process left open (after a failure or Ctrl-C)."""
        ending = [self.recording.end_run(handle, status) for handle in list(self.open_runs)]
        self.open_runs.clear()
        try:
            self.wait_all(ending)
        except TrackingError as exc:
            log.warning("could not end the open MLflow runs as %s: %s", status, exc)

    def end_orphan_run(self, config: DictConfig, run_id: str | None, run_dir: Path) -> str | None:
        """End a cut-off run of another process as KILLED, if still RUNNING; its id.

        Without the id (the process was killed before it reached run.json) the run is found by
        its `nexus.run_dir` tag.
        """
        where = store_of(config)
        if not run_id:
            found = self.recording.find_run(*where, experiment_name(config), str(run_dir))
            run_id = self.result(found)
        if run_id:
            self.result(self.recording.end_if_running(*where, run_id, "KILLED"))
        return run_id

    def parent_run(self, config: DictConfig) -> str | None:
        """The handle of this process's open sweep run named in the job's overrides, if any."""
        for override in config.hydra.overrides.task:
            if str(override).startswith(f"{PARENT_RUN_KEY}="):
                handle = self.sweep_handles.get(str(override).split("=", 1)[1])
                return handle if handle in self.open_runs else None
        return None

    @property
    def limit_s(self) -> float | None:
        """How long to wait for an answer: the deadline for a server; a local store answers."""
        if not self.remote:
            return None
        return min(self.timeout_s, AFTER_CTRL_C_S) if self.interrupted else self.timeout_s

    def result(self, future: Future[Any]) -> Any:
        """The call's answer, waited for at most `limit_s`."""
        try:
            return future.result(timeout=self.limit_s)
        except FutureTimeout:
            raise self._late() from None

    def wait_all(self, futures: Iterable[Future[Any]]) -> None:
        """Wait for every call, all within `limit_s`; then raise the first failure, if any."""
        deadline = time.monotonic() + (self.limit_s or 0.0)
        first: BaseException | None = None
        for future in list(futures):
            left = max(0.0, deadline - time.monotonic()) if self.limit_s else None
            try:
                error = future.exception(timeout=left)
            except FutureTimeout:
                error = self._late()
            first = first or error
        if first is not None:
            raise first

    def _late(self) -> TrackingError:
        return TrackingError(
            f"the tracking store did not answer within {self.timeout_s:g} s",
            ["raise the deadline with tracking.timeout_s=SECONDS if the store is just slow"],
        )

    def closing(self, handle: str, status: str, **logged: Any) -> list[Future[Any]]:
        """Send the calls that log to an open run and end it; their futures."""
        self.open_runs.pop(handle, None)
        return [self.recording.log(handle, **logged), self.recording.end_run(handle, status)]


@dataclass
class JobRun:
    """A job's MLflow run as the job sees it: its id once known, its end after Ctrl-C."""

    tracker: Tracker
    handle: str
    started: Future[str]

    def run_id(self, wait: bool = False) -> str | None:
        """The run's id; None until it is known (or if it failed). `wait`: wait for it."""
        if not (wait or self.started.done()):
            return None
        try:
            return self.tracker.result(self.started)
        except Exception:  # the job's end reports the failure
            return None

    def end(self, status: str) -> None:
        """End the run now (the job was interrupted: Hydra will not call on_job_end)."""
        if self.handle in self.tracker.open_runs:
            self.tracker.open_runs.pop(self.handle)
            try:
                self.tracker.wait_all([self.tracker.recording.end_run(self.handle, status)])
            except TrackingError as exc:
                log.warning("could not end the MLflow run as %s: %s", status, exc)


def experiment_name(config: DictConfig) -> str:
    """The job's MLflow experiment: `tracking.experiment`, else the case's name."""
    return str(config.tracking.get("experiment") or config.case.name)


def store_of(config: DictConfig) -> tuple[str, str]:
    """The store's URI and the project root (where a local store keeps its artifacts)."""
    root = Path(config.paths.root)
    return tracking_uri(config.tracking.get("uri"), root), str(root)
