"""MLflow tracking as a Hydra callback: one run per job, a parent run per sweep.

The parent run's id reaches every job as the override `tracking.parent_run_id=...`, so it
travels in the job's config to any launcher (joblib workers, submitit, Ray). The MLflow calls
themselves go through a `Recording` (`nexus.tracking.helper`): to the helper process that
`python -m nexus` starts, which loads mlflow while the steps run, or made in-process. A job's
run is created without waiting; the job receives it as a `JobRun` (its id reaches `run.json`
when it is known), and the job's end waits for every call, at most `tracking.timeout_s`.
With `tracking.enabled=false` nothing here imports mlflow.
"""

from __future__ import annotations

import functools
import logging
import os
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from nexus.core.text import slug
from nexus.run.manifest import MANIFEST, read_manifest
from nexus.run.rundirs import PARENT_RUN_KEY, user_overrides
from nexus.tracking.store import TrackingError, is_remote, plain_failure, runs_page
from nexus.tracking.tracker import DEFAULT_TIMEOUT_S, JobRun, Tracker, experiment_name, store_of

__all__ = ["TrackingCallback", "job_overrides", "show_runs_page"]

log = logging.getLogger("nexus.tracking.callback")

MAX_PARAM = 6000  # MLflow's limit on a param value


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
            uri = store_of(config)[0]
            reason = plain_failure(_one_line(exc), uri)
            self.tracker.report(reason if uri in reason else f"{reason} (store: {uri})")
            log.debug("the tracking failure", exc_info=True)

    return guarded


class TrackingCallback(Callback):
    """Records every job in MLflow: params, tags, metrics, artifacts, and its ending.

    Its `Tracker` is the session's (see `nexus.tracking.session`); a worker process that runs a job
    of a sweep receives a copy of the callback and tracks in-process.
    """

    def __init__(self) -> None:
        from nexus.tracking.session import current_session

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
            *store_of(config),
            experiment_name(config),
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
                uri = store_of(config)[0]
                config.hydra.overrides.task.append(f"tracking.uri='{uri}'")
        log.info(
            "MLflow: sweep run %s in experiment '%s' (%s)",
            run_id,
            experiment_name(config),
            store_of(config)[0],
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
            "nexus.config.overrides": " ".join(job_overrides(config)) or "(none)",
        }
        parent = config.tracking.get("parent_run_id")
        if parent:
            tags["mlflow.parentRunId"] = str(parent)
        handle = _new_handle()
        started = self.tracker.recording.start_run(
            handle,
            *store_of(config),
            experiment_name(config),
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
                    tags=_cache_tags(manifest),
                    files=_artifacts(run_dir, manifest, config),
                ),
            ]
        )
        if not config.tracking.get("parent_run_id"):  # a sweep's jobs: the sweep says it once
            show_runs_page(config, self.tracker)

    def _open(self, config: DictConfig) -> None:
        # In-process: open the store before the job's clock starts. In the helper: as soon
        # as mlflow is loaded, while nexus goes on.
        self.tracker.timeout_s = _timeout(config)
        self.tracker.remote = is_remote(store_of(config)[0])
        _raise_if_failed(self.tracker.recording.open(*store_of(config), self.tracker.timeout_s))


def show_runs_page(config: DictConfig, tracker: Tracker) -> None:
    """Say where the experiment's runs table is: `mlflow ui`'s page, or the server's."""
    uri, root = store_of(config)
    experiment = tracker.result(tracker.recording.experiment_id(uri, root, experiment_name(config)))
    page = runs_page(uri, experiment)
    if uri.startswith(("http://", "https://")):
        log.info("MLflow: the runs of '%s' are at %s", experiment_name(config), page)
    else:
        log.info("MLflow: see the runs with `mlflow ui` (in %s), then open %s", root, page)


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


def _common_tags(config: DictConfig) -> dict[str, str]:
    from nexus.run.manifest import code_version

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
    """`demo #2: latency_to_compensate_s=0.3, zoom_factor=8` for a sweep's job: its values."""
    values = ", ".join(
        o.lstrip("+~").removeprefix("pipeline.")
        for o in job_overrides(config)
        if not o.startswith(("case=", "tracking.uri="))
    )
    if config.tracking.get("parent_run_id"):
        head = f"{config.case.name} #{config.hydra.job.num}"
    else:
        head = f"{config.case.name} {run_dir.name}"
    return f"{head}: {values}" if values else head


def _params(config: DictConfig) -> dict[str, str]:
    pipeline = OmegaConf.to_container(config.pipeline, resolve=True) or {}
    values = {
        **_flatten(pipeline, "pipeline"),
        **_own_values(config),
        "case": config.case.name,
        "steps": ", ".join(config.case.steps),
        "only": config.get("only"),
    }
    return {k: _short(v) for k, v in values.items()}


def _own_values(config: DictConfig) -> dict[str, Any]:
    """`steps.<key>.<param>`: the values a step has of its own, and the switches turned off."""
    nodes = OmegaConf.to_container(config.get("steps") or {}, resolve=False) or {}
    own = {}
    for key, node in nodes.items():  # type: ignore[union-attr]
        for param, raw in (node or {}).items():
            if raw != f"${{pipeline.{param}}}" and (param, raw) != ("enabled", True):
                own[f"steps.{key}.{param}"] = config.steps[key][param]
    return own


def _metrics(manifest: dict[str, Any]) -> dict[str, float]:
    """The steps' metrics (a reused step's again, as recorded), durations and time saved."""
    values = {k: float(v) for k, v in (manifest.get("metrics") or {}).items()}
    for step in manifest.get("steps", []):
        if step.get("seconds") is not None:
            values[f"seconds.{slug(step['name'].lower())}"] = float(step["seconds"])
    cache = manifest.get("cache")
    if isinstance(cache, dict) and cache.get("seconds_saved") is not None:
        values["cache.seconds_saved"] = float(cache["seconds_saved"])
    return values


def _cache_tags(manifest: dict[str, Any]) -> dict[str, str]:
    """Per step: reused or computed, and from which run; for only=: where inputs came from."""
    tags = {}
    for step in manifest.get("steps", []):
        cache = step.get("cache") or {}
        if cache.get("status"):
            tags[f"nexus.cache.{slug(step['name'].lower())}"] = str(cache["status"])
        if cache.get("reused_from"):
            tags[f"nexus.reused_from.{slug(step['name'].lower())}"] = str(cache["reused_from"])
    for name, origin in (manifest.get("inputs_origin") or {}).items():
        tags[f"nexus.input_from.{name}"] = _short(origin.get("run"))
        if origin.get("differs"):
            tags[f"nexus.input_params.{name}"] = _short("; ".join(origin["differs"]))
    return tags


def _artifacts(
    run_dir: Path, manifest: dict[str, Any], config: DictConfig
) -> list[tuple[str, str | None]]:
    """What a job logs: run.json, nexus.log, Hydra's configs, and its outputs unless skipped."""
    files: list[tuple[str, str | None]] = [
        (str(run_dir / MANIFEST), None),
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
