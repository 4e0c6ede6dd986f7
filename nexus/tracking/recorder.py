"""The MLflow calls of nexus's runs, made from plain data (names, dicts, paths).

A `Recorder` runs wherever mlflow is loaded: in the nexus process, or in the helper process
of `nexus.tracking.helper`, which imports mlflow beside Hydra's start-up and the steps. Runs
are named by a *handle* the caller picks, so that a caller can log to a run, or end it, before
it knows the run's MLflow id.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from nexus.tracking.store import Store, TrackingError

__all__ = ["Recorder"]

_BATCH = 100  # MLflow takes at most 100 params (or tags) per batch


class Recorder:
    """Opens stores and creates, logs to and ends runs: every MLflow call nexus makes."""

    def __init__(self) -> None:
        self._stores: dict[str, Store] = {}
        self._unusable: dict[str, str] = {}  # uri -> why it could not be opened: not tried again
        self._runs: dict[str, tuple[Store, str]] = {}
        self.timeout_s: float | None = None  # the tracking deadline, once `open` says it
        self.calling_server_since: float | None = None  # while a call to a server runs

    def load(self) -> None:
        """Import mlflow's client (about a second): what the helper does while nexus starts."""
        from mlflow.entities import Metric, Param, RunTag  # noqa: F401
        from mlflow.tracking import MlflowClient  # noqa: F401

    def open(self, uri: str, root: str, timeout_s: float) -> None:
        """Open the store at `uri` (creating a SQLite store's schema) before it is needed.

        `timeout_s` (`tracking.timeout_s`) bounds each HTTP request to a tracking server, and
        MLflow's retries with it, unless the environment sets them.
        """
        self.timeout_s = timeout_s
        limits = {
            "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, round(timeout_s))),
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        }
        for name, value in limits.items():
            os.environ.setdefault(name, value)  # read by mlflow at each request
        self._store(uri, root)

    def start_run(
        self,
        handle: str,
        uri: str,
        root: str,
        experiment: str,
        run_name: str,
        tags: dict[str, str],
        params: dict[str, str] | None = None,
    ) -> str:
        """Create a run in `experiment` (created if missing) and log its params; its id."""
        store = self._store(uri, root)
        run = store.call(
            store.client.create_run,
            store.experiment_id(experiment),
            run_name=run_name,
            tags=tags,
        )
        self._runs[handle] = (store, run.info.run_id)
        if params:
            self.log(handle, params=params)
        return str(run.info.run_id)

    def log(
        self,
        handle: str,
        *,
        params: dict[str, str] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
        files: list[tuple[str, str | None]] | None = None,
    ) -> None:
        """Log to the run `handle`: params, metrics, tags, and files or folders as artifacts.

        `files` holds (path, artifact folder or None) pairs; a folder is logged whole.
        """
        from mlflow.entities import Metric, Param, RunTag

        if handle not in self._runs:
            return  # its start failed, and said so
        store, run_id = self._runs[handle]
        now = int(time.time() * 1000)
        batch_params = [Param(k, v) for k, v in sorted((params or {}).items())]
        batch_tags = [RunTag(k, v) for k, v in sorted((tags or {}).items())]
        batch_metrics = [Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()]
        for start in range(0, max(len(batch_params), len(batch_tags), 1), _BATCH):
            chunk_params = batch_params[start : start + _BATCH]
            chunk_tags = batch_tags[start : start + _BATCH]
            chunk_metrics = batch_metrics if start == 0 else []
            if chunk_params or chunk_tags or chunk_metrics:
                store.call(
                    store.client.log_batch,
                    run_id,
                    metrics=chunk_metrics,
                    params=chunk_params,
                    tags=chunk_tags,
                )
        for path, folder in files or []:
            if Path(path).is_dir():
                store.call(store.client.log_artifacts, run_id, path, folder)
            elif Path(path).is_file():
                store.call(store.client.log_artifact, run_id, path, folder)

    def end_run(self, handle: str, status: str) -> None:
        """End the run `handle` as FINISHED, FAILED or KILLED."""
        found = self._runs.pop(handle, None)
        if found is not None:
            store, run_id = found
            store.call(store.client.set_terminated, run_id, status=status)

    def end_all(self, status: str) -> None:
        """End every run still open (the process that asked for them is gone)."""
        for handle in list(self._runs):
            self.end_run(handle, status)

    def end_if_running(self, uri: str, root: str, run_id: str, status: str) -> None:
        """End another process's run, by id, if the store still has it RUNNING."""
        store = self._store(uri, root)
        if store.call(store.client.get_run, run_id).info.status == "RUNNING":
            store.call(store.client.set_terminated, run_id, status=status)

    def experiment_id(self, uri: str, root: str, experiment: str) -> str:
        """The id of `experiment` (created if missing)."""
        store = self._store(uri, root)
        return store.experiment_id(experiment)

    def find_run(self, uri: str, root: str, experiment: str, run_dir: str) -> str | None:
        """The id of the run tagged with `run_dir` in `experiment`, if there is one."""
        store = self._store(uri, root)
        found = store.call(store.client.get_experiment_by_name, experiment)
        if found is None:
            return None
        quoted = run_dir.replace("'", "\\'")
        runs = store.call(
            store.client.search_runs,
            [found.experiment_id],
            filter_string=f"tags.`nexus.run_dir` = '{quoted}'",
            max_results=1,
        )
        return str(runs[0].info.run_id) if runs else None

    def _store(self, uri: str, root: str) -> Store:
        """The open store at `uri`; one that failed to open fails at once from then on.

        A server that does not answer costs the deadline once, not once per call.
        """
        if uri in self._unusable:
            raise TrackingError(self._unusable[uri])
        if uri not in self._stores:
            try:
                self._stores[uri] = Store(uri, Path(root), self._timed)
            except Exception as exc:
                self._unusable[uri] = (
                    str(exc) if isinstance(exc, TrackingError) else (f"{type(exc).__name__}: {exc}")
                )
                raise
        return self._stores[uri]

    def _timed(self, remote: bool, running: bool) -> None:
        """Note when a call to a tracking server starts (and ends), for the helper's watchdog."""
        if remote:
            self.calling_server_since = time.monotonic() if running else None
