"""MLflow tracking as a Hydra callback: one run per job, a parent run per sweep.

The parent run's id reaches every job as the override `tracking.parent_run_id=...`, so it
travels in the job's config to any launcher (joblib workers, submitit, Ray). With
`tracking.enabled=false` nothing here imports mlflow.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from nexus.mlflow_store import Store, tracking_uri
from nexus.rundirs import PARENT_RUN_KEY, read_manifest, user_overrides

__all__ = ["TrackingCallback", "end_open_runs", "end_run_if_running", "job_overrides"]

log = logging.getLogger("nexus.tracking")

MAX_PARAM = 6000  # MLflow's limit on a param value
_stores: dict[str, Store] = {}
_open_runs: dict[str, Store] = {}
_job_run_id: str | None = None


def job_run_id() -> str | None:
    """The MLflow run of the job this process is running, once its callback has made it."""
    return _job_run_id


class TrackingCallback(Callback):
    """Records every job in MLflow: params, tags, metrics, artifacts, and its ending."""

    def __init__(self) -> None:
        self.run_id: str | None = None

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        if _enabled(config):
            _experiment(config)  # open the store before the job's clock starts

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not _enabled(config) or OmegaConf.is_missing(config, "case"):
            return
        store, experiment = _experiment(config)
        sweep_dir = Path(config.hydra.sweep.dir)
        tags = {**_common_tags(config), "nexus.sweep_dir": str(sweep_dir), "nexus.kind": "sweep"}
        run = store.call(
            store.client.create_run,
            experiment,
            run_name=f"{config.case.name} sweep {sweep_dir.name}",
            tags=tags,
        )
        _open_runs[run.info.run_id] = store
        with read_write(config.hydra.overrides.task), open_dict(config.hydra.overrides.task):
            config.hydra.overrides.task.append(f"{PARENT_RUN_KEY}={run.info.run_id}")
            if not config.tracking.get("uri") and os.environ.get("MLFLOW_TRACKING_URI"):
                # A job on another host (Ray, SLURM) may lack this shell's variable: the
                # store travels in the job's config, so parent and children share it.
                config.hydra.overrides.task.append(f"tracking.uri='{store.uri}'")
        log.info(
            "MLflow: sweep run %s in experiment '%s' (%s)",
            run.info.run_id,
            _experiment_name(config),
            store.uri,
        )

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not _enabled(config):
            return
        store, experiment = _experiment(config)
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
        run = store.call(
            store.client.create_run, experiment, run_name=_run_name(config, run_dir), tags=tags
        )
        self.run_id = run.info.run_id
        _open_runs[self.run_id] = store
        _log_params(store, self.run_id, config)
        global _job_run_id
        _job_run_id = self.run_id  # run_job, next in this process, records it in run.json

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if self.run_id is None:
            return
        global _job_run_id
        store, run_id, self.run_id, _job_run_id = _open_runs[self.run_id], self.run_id, None, None
        run_dir = Path(config.hydra.runtime.output_dir)
        manifest = read_manifest(run_dir) or {}
        try:
            _log_results(store, run_id, manifest)
            _log_artifacts(store, run_id, run_dir, manifest, config)
        finally:
            status = "FINISHED" if job_return.status == JobStatus.COMPLETED else "FAILED"
            _end(run_id, status)


def end_open_runs(status: str) -> list[str]:
    """End every MLflow run this process left open (after a failure or Ctrl-C)."""
    ended = list(_open_runs)
    for run_id in ended:
        _end(run_id, status)
    return ended


def end_run_if_running(config: DictConfig, run_id: str, status: str) -> None:
    """End another process's run that is still RUNNING in the store (an orphan)."""
    store, _ = _experiment(config)
    run = store.call(store.client.get_run, run_id)
    if run.info.status == "RUNNING":
        store.call(store.client.set_terminated, run_id, status=status)


def parent_run(config: DictConfig) -> tuple[Store, str] | None:
    """The store and id of this process's open sweep run, if any."""
    for override in config.hydra.overrides.task:
        if str(override).startswith(f"{PARENT_RUN_KEY}="):
            run_id = str(override).split("=", 1)[1]
            store = _open_runs.get(run_id)
            return (store, run_id) if store else None
    return None


def job_overrides(config: DictConfig) -> list[str]:
    """The job's command-line overrides, without the ones nexus adds itself."""
    return user_overrides(config.hydra.overrides.task)


def _end(run_id: str, status: str) -> None:
    store = _open_runs.pop(run_id, None)
    if store is not None:
        store.call(store.client.set_terminated, run_id, status=status)


def _enabled(config: DictConfig) -> bool:
    return bool(config.tracking.enabled)


def _experiment_name(config: DictConfig) -> str:
    return str(config.tracking.get("experiment") or config.case.name)


def _experiment(config: DictConfig) -> tuple[Store, str]:
    root = Path(config.paths.root)
    uri = tracking_uri(config.tracking.get("uri"), root)
    if uri not in _stores:
        _stores[uri] = Store(uri, root)
    store = _stores[uri]
    return store, store.experiment_id(_experiment_name(config))


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


def _log_params(store: Store, run_id: str, config: DictConfig) -> None:
    from mlflow.entities import Param

    pipeline = OmegaConf.to_container(config.pipeline, resolve=True) or {}
    values = {
        **_flatten(pipeline, "pipeline"),
        "case": config.case.name,
        "steps": ", ".join(config.case.steps),
        "only": config.get("only"),
    }
    params = [Param(k, _short(v)) for k, v in sorted(values.items())]
    for start in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
        store.call(store.client.log_batch, run_id, params=params[start : start + 100])


def _log_results(store: Store, run_id: str, manifest: dict[str, Any]) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    values = dict(manifest.get("metrics") or {})
    for step in manifest.get("steps", []):
        if step.get("seconds") is not None:
            values[f"seconds.{_slug(step['name'])}"] = step["seconds"]
    metrics = [Metric(k, float(v), now, 0) for k, v in values.items()]
    if metrics:
        store.call(store.client.log_batch, run_id, metrics=metrics)


def _log_artifacts(
    store: Store, run_id: str, run_dir: Path, manifest: dict[str, Any], config: DictConfig
) -> None:
    for name in ("run.json", "nexus.log"):
        if (run_dir / name).is_file():
            store.call(store.client.log_artifact, run_id, str(run_dir / name))
    if (run_dir / ".hydra").is_dir():
        store.call(store.client.log_artifacts, run_id, str(run_dir / ".hydra"), "config")
    settings = config.tracking
    if not settings.get("log_outputs", True):
        return
    skip_handlers = set(settings.get("skip_handlers") or [])
    skip_names = set(settings.get("skip_outputs") or [])
    for step in manifest.get("steps", []):
        for out in step.get("outputs", []):
            path = run_dir / out["path"]
            if out.get("handler") in skip_handlers or out["name"] in skip_names:
                continue
            if path.is_dir():
                store.call(store.client.log_artifacts, run_id, str(path), f"outputs/{out['name']}")
            elif path.is_file():
                store.call(store.client.log_artifact, run_id, str(path), "outputs")


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
