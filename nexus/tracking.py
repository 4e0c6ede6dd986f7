"""MLflow tracking as a Hydra callback: one run per job, a parent run per sweep.

The parent run's id reaches every job as the override `tracking.parent_run_id=...`, so it
travels in the job's config to any launcher (joblib workers, submitit, Ray). The MLflow calls
themselves go through a `Recording` (`nexus.recorder_process`): to the helper process that
`python -m nexus` starts, which loads mlflow while the steps run, or made in-process. A job's
run is created without waiting; the job receives it as a `JobRun` (its id reaches `run.json`
when it is known), and the job's end waits for every call, at most `tracking.timeout_s`.
With `tracking.enabled=false` nothing here imports mlflow.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from nexus.mlflow_store import TrackingError, is_remote, tracking_uri
from nexus.recorder_process import Helper, InProcess, Recording
from nexus.rundirs import PARENT_RUN_KEY, read_manifest, user_overrides

__all__ = ["JobRun", "Tracker", "TrackingCallback", "job_overrides"]

log = logging.getLogger("nexus.tracking")

MAX_PARAM = 6000  # MLflow's limit on a param value
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
        where = _where(config)
        if not run_id:
            found = self.recording.find_run(*where, _experiment_name(config), str(run_dir))
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


def _reported(method: Callable[..., None]) -> Callable[..., None]:
    """A callback method whose failure is logged and kept for the end, never raised to Hydra.

    The steps' outputs do not depend on tracking: a store that cannot be reached costs the
    record, not the run; the command then ends with an error that says so.
    """

    @functools.wraps(method)
    def guarded(self: TrackingCallback, config: DictConfig, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, config, *args, **kwargs)
        except Exception as exc:
            reason = _one_line(exc)
            self.tracker.report(f"{reason} (store: {_where(config)[0]})")
            log.debug("the tracking failure", exc_info=True)

    return guarded


class TrackingCallback(Callback):
    """Records every job in MLflow: params, tags, metrics, artifacts, and its ending.

    Its `Tracker` is the session's (see `nexus.session`); a worker process that runs a job
    of a sweep receives a copy of the callback and tracks in-process.
    """

    def __init__(self) -> None:
        from nexus.session import current_session

        session = current_session()
        self._tracker = session.tracker if session is not None else None
        self._job: JobRun | None = None  # the run of the job running now

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            self._tracker = Tracker()
        return self._tracker

    def __getstate__(self) -> dict[str, Any]:
        return {"_tracker": None, "_job": None}  # calls, futures, helper: this process's

    @_reported
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if _enabled(config):
            self._open(config)

    @_reported
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not _enabled(config) or OmegaConf.is_missing(config, "case"):
            return
        self._open(config)
        sweep_dir = Path(config.hydra.sweep.dir)
        tags = {**_common_tags(config), "nexus.sweep_dir": str(sweep_dir), "nexus.kind": "sweep"}
        handle = _new_handle()
        started = self.tracker.recording.start_run(
            handle,
            *_where(config),
            _experiment_name(config),
            f"{config.case.name} sweep {sweep_dir.name}",
            tags,
        )
        self.tracker.start(handle, started)
        run_id = self.tracker.result(started)  # every job needs it, in its overrides
        self.tracker.sweep_handles[run_id] = handle
        with read_write(config.hydra.overrides.task), open_dict(config.hydra.overrides.task):
            config.hydra.overrides.task.append(f"{PARENT_RUN_KEY}={run_id}")
            if not config.tracking.get("uri") and os.environ.get("MLFLOW_TRACKING_URI"):
                # A job on another host (Ray, SLURM) may lack this shell's variable: the
                # store travels in the job's config, so parent and children share it.
                uri = _where(config)[0]
                config.hydra.overrides.task.append(f"tracking.uri='{uri}'")
        log.info(
            "MLflow: sweep run %s in experiment '%s' (%s)",
            run_id,
            _experiment_name(config),
            _where(config)[0],
        )

    @_reported
    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not _enabled(config):
            return
        self._open(config)  # again: in a worker process, the first time
        run_dir = Path(config.hydra.runtime.output_dir)
        tags = {
            **_common_tags(config),
            "nexus.run_dir": str(run_dir),
            "nexus.kind": "job",
            "nexus.overrides": " ".join(job_overrides(config)) or "(none)",
        }
        parent = config.tracking.get("parent_run_id")
        if parent:
            tags["mlflow.parentRunId"] = str(parent)
        handle = _new_handle()
        started = self.tracker.recording.start_run(
            handle,
            *_where(config),
            _experiment_name(config),
            _run_name(config, run_dir),
            tags,
            _params(config),
        )
        self.tracker.start(handle, started)
        self._job = JobRun(self.tracker, handle, started)
        job = kwargs.get("task_function")
        if hasattr(job, "attach_mlflow_run"):  # nexus's Job: run.json gets the run's id
            job.attach_mlflow_run(self._job)
        _raise_if_failed(started)  # in-process it is done already; the helper's answer comes later

    @_reported
    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        job, self._job = self._job, None
        started = self.tracker.open_runs.get(job.handle) if job else None
        if job is None or started is None:  # not tracked, or already ended after Ctrl-C
            return
        handle = job.handle
        run_dir = Path(config.hydra.runtime.output_dir)
        manifest = read_manifest(run_dir) or {}
        status = "FINISHED" if job_return.status == JobStatus.COMPLETED else "FAILED"
        self.tracker.wait_all(
            [
                started,
                *self.tracker.closing(
                    handle,
                    status,
                    metrics=_metrics(manifest),
                    files=_artifacts(run_dir, manifest, config),
                ),
            ]
        )

    def _open(self, config: DictConfig) -> None:
        # In-process: open the store before the job's clock starts. In the helper: as soon
        # as mlflow is loaded, while nexus goes on.
        self.tracker.timeout_s = _timeout(config)
        self.tracker.remote = is_remote(_where(config)[0])
        _raise_if_failed(self.tracker.recording.open(*_where(config), self.tracker.timeout_s))


def job_overrides(config: DictConfig) -> list[str]:
    """The job's command-line overrides, without the ones nexus adds itself."""
    return user_overrides(config.hydra.overrides.task)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, TrackingError):
        return "; ".join([exc.message, *exc.details])
    return f"{type(exc).__name__}: {exc}"


def _raise_if_failed(future: Future[Any]) -> None:
    if future.done() and future.exception() is not None:
        raise future.exception()  # type: ignore[misc]


def _new_handle() -> str:
    return uuid.uuid4().hex


def _enabled(config: DictConfig) -> bool:
    return bool(config.tracking.enabled)


def _timeout(config: DictConfig) -> float:
    return float(config.tracking.get("timeout_s") or DEFAULT_TIMEOUT_S)


def _experiment_name(config: DictConfig) -> str:
    return str(config.tracking.get("experiment") or config.case.name)


def _where(config: DictConfig) -> tuple[str, str]:
    """The store's URI and the project root (where a local store keeps its artifacts)."""
    root = Path(config.paths.root)
    return tracking_uri(config.tracking.get("uri"), root), str(root)


def _common_tags(config: DictConfig) -> dict[str, str]:
    from nexus.manifest import code_version

    code = code_version(Path(config.paths.root))
    tags = {"nexus.case": str(config.case.name)}
    if code["git_commit"]:
        tags.update(
            {
                "mlflow.source.git.commit": code["git_commit"],
                "nexus.git_commit": code["git_commit"],
                "nexus.git_dirty": str(code["git_dirty"]).lower(),
            }
        )
    return tags


def _run_name(config: DictConfig, run_dir: Path) -> str:
    swept = [o for o in job_overrides(config) if not o.startswith(("case=", "tracking.uri="))]
    if config.tracking.get("parent_run_id"):
        return f"{config.case.name} #{config.hydra.job.num} " + " ".join(swept)
    return f"{config.case.name} {run_dir.name}"


def _params(config: DictConfig) -> dict[str, str]:
    pipeline = OmegaConf.to_container(config.pipeline, resolve=True) or {}
    values = {
        **_flatten(pipeline, "pipeline"),
        "case": config.case.name,
        "steps": ", ".join(config.case.steps),
        "only": config.get("only"),
    }
    return {k: _short(v) for k, v in values.items()}


def _metrics(manifest: dict[str, Any]) -> dict[str, float]:
    values = {k: float(v) for k, v in (manifest.get("metrics") or {}).items()}
    for step in manifest.get("steps", []):
        if step.get("seconds") is not None:
            values[f"seconds.{_slug(step['name'])}"] = float(step["seconds"])
    return values


def _artifacts(
    run_dir: Path, manifest: dict[str, Any], config: DictConfig
) -> list[tuple[str, str | None]]:
    """What a job logs: run.json, nexus.log, Hydra's configs, and its outputs unless skipped."""
    files: list[tuple[str, str | None]] = [
        (str(run_dir / "run.json"), None),
        (str(run_dir / "nexus.log"), None),
        (str(run_dir / ".hydra"), "config"),
    ]
    settings = config.tracking
    if not settings.get("log_outputs", True):
        return files
    skip_handlers = set(settings.get("skip_handlers") or [])
    skip_names = set(settings.get("skip_outputs") or [])
    for step in manifest.get("steps", []):
        for out in step.get("outputs", []):
            if out.get("handler") in skip_handlers or out["name"] in skip_names:
                continue
            path = run_dir / out["path"]
            files.append((str(path), f"outputs/{out['name']}" if path.is_dir() else "outputs"))
    return files


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}"))
        return flat
    return {prefix: value}


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM else text[: MAX_PARAM - 3] + "..."


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_")
