"""MLflow tracking as a Hydra callback: one run per job, a parent run per sweep.

The parent run's id reaches every job as the override `tracking.parent_run_id=...`, so it
travels in the job's config to any launcher (joblib workers, submitit, Ray). The MLflow calls
themselves go through `nexus.tracking.helper`: to the helper process that `python -m nexus`
starts, which loads mlflow while the steps run, or made in-process. A job's run is created
without waiting; its id reaches `run.json` when it is known (`job_run_id`), and the job's end
waits for every call. With `tracking.enabled=false` nothing here imports mlflow.
"""

from __future__ import annotations

import functools
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from nexus.core.text import slug
from nexus.run.manifest import MANIFEST, read_manifest
from nexus.run.rundirs import PARENT_RUN_KEY, user_overrides
from nexus.tracking.helper import recording
from nexus.tracking.store import TrackingError, runs_page, tracking_uri

__all__ = [
    "TrackingCallback",
    "close_run",
    "end_open_runs",
    "end_orphan_run",
    "job_overrides",
    "job_run_id",
    "parent_run",
    "show_runs_page",
    "take_problems",
]

log = logging.getLogger("nexus.tracking.callback")

MAX_PARAM = 6000  # MLflow's limit on a param value
_WAIT_FOR_ID_S = 60.0  # at most, for a job's run id when its run.json is written last
_open_runs: dict[str, Future[str]] = {}  # handle -> run id, of the runs this process started
_sweep_handles: dict[str, str] = {}  # a sweep run's id -> its handle
_job_run: Future[str] | None = None
_problems: list[str] = []  # what went wrong recording, each once, for the end of the command


def take_problems() -> list[str]:
    """What went wrong recording this process's runs since the last call (each once)."""
    problems = list(_problems)
    _problems.clear()
    return problems


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
            reason = str(exc) if isinstance(exc, TrackingError) else f"{type(exc).__name__}: {exc}"
            problem = f"{reason} (store: {_where(config)[0]})"
            log.warning("MLflow could not record the run: %s", problem)
            log.debug("the tracking failure", exc_info=True)
            if problem not in _problems:
                _problems.append(problem)

    return guarded


def job_run_id(wait: bool = False) -> str | None:
    """The MLflow id of this process's job run: None until it is known (or if it failed).

    With `wait`, wait for it (for the manifest's last write).
    """
    future = _job_run
    if future is None or not (wait or future.done()):
        return None
    try:
        return future.result(timeout=_WAIT_FOR_ID_S)
    except Exception:  # the job's end reports the failure
        return None


class TrackingCallback(Callback):
    """Records every job in MLflow: params, tags, metrics, artifacts, and its ending."""

    def __init__(self) -> None:
        self.handle: str | None = None

    @_reported
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if _enabled(config):
            # In-process: open the store before the job's clock starts. In the helper: as soon
            # as mlflow is loaded, while nexus goes on.
            _raise_if_failed(recording().submit("open", *_where(config)))

    @_reported
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not _enabled(config) or OmegaConf.is_missing(config, "case"):
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        tags = {**_common_tags(config), "nexus.sweep_dir": str(sweep_dir), "nexus.kind": "sweep"}
        handle = _new_handle()
        started = recording().submit(
            "start_run",
            handle,
            *_where(config),
            _experiment_name(config),
            f"{config.case.name} sweep {sweep_dir.name}",
            tags,
        )
        run_id = started.result()  # every job needs it, in its overrides
        _open_runs[handle], _sweep_handles[run_id] = started, handle
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
        started = recording().submit(
            "start_run",
            handle,
            *_where(config),
            _experiment_name(config),
            _run_name(config, run_dir),
            tags,
            _params(config),
        )
        global _job_run
        self.handle, _open_runs[handle], _job_run = handle, started, started
        _raise_if_failed(started)  # in-process it is done already; the helper's answer comes later

    @_reported
    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        global _job_run
        handle, self.handle, _job_run = self.handle, None, None
        started = _open_runs.get(handle) if handle else None
        if started is None:  # not tracked, or already ended (KILLED) after Ctrl-C
            return
        run_dir = Path(config.hydra.runtime.output_dir)
        manifest = read_manifest(run_dir) or {}
        status = "FINISHED" if job_return.status == JobStatus.COMPLETED else "FAILED"
        _wait_all(
            [
                started,
                *_close(
                    handle,
                    status,
                    metrics=_metrics(manifest),
                    tags=_cache_tags(manifest),
                    files=_artifacts(run_dir, manifest, config),
                ),
            ]
        )
        if not config.tracking.get("parent_run_id"):  # a sweep's jobs: the sweep says it once
            show_runs_page(config)


def show_runs_page(config: DictConfig) -> None:
    """Say where the experiment's runs table is: `mlflow ui`'s page, or the server's."""
    uri, root = _where(config)
    experiment = recording().submit("experiment_id", uri, root, _experiment_name(config))
    page = runs_page(uri, experiment.result())
    if uri.startswith(("http://", "https://")):
        log.info("MLflow: the runs of '%s' are at %s", _experiment_name(config), page)
    else:
        log.info("MLflow: see the runs with `mlflow ui` (in %s), then open %s", root, page)


def close_run(handle: str, status: str, **logged: Any) -> None:
    """Log `logged` (see `Recorder.log`) to an open run, then end it; waits for both."""
    _wait_all(_close(handle, status, **logged))


def end_open_runs(status: str) -> None:
    """End every MLflow run this process left open (after a failure or Ctrl-C)."""
    ending = [recording().submit("end_run", handle, status) for handle in list(_open_runs)]
    _open_runs.clear()
    for future in ending:
        try:
            future.result()
        except Exception as exc:
            log.warning("could not end an MLflow run as %s: %s", status, exc)


def end_orphan_run(config: DictConfig, run_id: str | None, run_dir: Path) -> str | None:
    """End a cut-off run of another process as KILLED, if still RUNNING; its id.

    Without the id (the process was killed before it reached run.json) the run is found by
    its `nexus.run_dir` tag.
    """
    where = _where(config)
    if not run_id:
        run_id = (
            recording().submit("find_run", *where, _experiment_name(config), str(run_dir)).result()
        )
    if run_id:
        recording().submit("end_if_running", *where, run_id, "KILLED").result()
    return run_id


def parent_run(config: DictConfig) -> str | None:
    """The handle of this process's open sweep run named in the job's overrides, if any."""
    for override in config.hydra.overrides.task:
        if str(override).startswith(f"{PARENT_RUN_KEY}="):
            handle = _sweep_handles.get(str(override).split("=", 1)[1])
            return handle if handle in _open_runs else None
    return None


def job_overrides(config: DictConfig) -> list[str]:
    """The job's command-line overrides, without the ones nexus adds itself."""
    return user_overrides(config.hydra.overrides.task)


def _close(handle: str, status: str, **logged: Any) -> list[Future[Any]]:
    _open_runs.pop(handle, None)
    return [
        recording().submit("log", handle, **logged),
        recording().submit("end_run", handle, status),
    ]


def _wait_all(futures: Iterable[Future[Any]]) -> None:
    """Wait for every call; then raise the first failure, if any."""
    errors = [f.exception() for f in futures]
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first


def _raise_if_failed(future: Future[Any]) -> None:
    if future.done() and future.exception() is not None:
        raise future.exception()  # type: ignore[misc]


def _new_handle() -> str:
    return uuid.uuid4().hex


def _enabled(config: DictConfig) -> bool:
    return bool(config.tracking.enabled)


def _experiment_name(config: DictConfig) -> str:
    return str(config.tracking.get("experiment") or config.case.name)


def _where(config: DictConfig) -> tuple[str, str]:
    """The store's URI and the project root (where a local store keeps its artifacts)."""
    root = Path(config.paths.root)
    return tracking_uri(config.tracking.get("uri"), root), str(root)


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
