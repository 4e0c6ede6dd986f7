"""The MLflow store: which URI, a client that survives busy SQLite, the case's experiment.

mlflow is imported only inside these functions, so a run with tracking off never loads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from nexus.errors import NexusError

__all__ = [
    "EXPERIMENT_TAGS",
    "Store",
    "TrackingError",
    "is_remote",
    "plain_failure",
    "runs_page",
    "tracking_uri",
]

T = TypeVar("T")
log = logging.getLogger("nexus.tracking.callback")

_RETRIES = 8
# MLflow 3's UI opens an experiment of this kind on its runs table, not on the GenAI overview
# (its "Traces 0, No data available" looks as if nothing was recorded).
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}


class TrackingError(NexusError):
    """The tracking store cannot be reached or written."""


def tracking_uri(configured: str | None, root: Path) -> str:
    """`tracking.uri`, else `$MLFLOW_TRACKING_URI`, else the project's `mlflow.db`.

    A relative path in `tracking.uri` (`sqlite:///runs.db`, `mlruns`) is taken from the
    project root, wherever the command runs.
    """
    if configured:
        return _from_root(configured, root)
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow.db'}"


_BARE_SCHEMES = ("databricks", "databricks-uc", "uc")  # URIs that are one word


def is_remote(uri: str) -> bool:
    """Whether `uri` names a tracking server (HTTP, Databricks, ...), not a local store."""
    if uri in _BARE_SCHEMES:
        return True
    return ":" in uri and not uri.startswith(("sqlite:", "file:"))


_NO_ANSWER = {  # what requests and urllib3 say, and what we say instead
    "Connection refused": "connection refused",
    "Name or service not known": "unknown host",
    "Temporary failure in name resolution": "unknown host",
    "timed out": "timed out",
    "Failed to establish a new connection": "no connection",
}


def plain_failure(text: str, uri: str) -> str:
    """A server that did not answer in a few words, instead of MLflow's and requests' lines."""
    if is_remote(uri):
        for said, plain in _NO_ANSWER.items():
            if said in text:
                return f"the tracking server at {uri} did not answer ({plain})"
    return text


def _from_root(uri: str, root: Path) -> str:
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        path = uri.removeprefix("sqlite:///")
        return uri if path in ("", ":memory:") else f"sqlite:///{root / path}"
    if ":" not in uri and uri not in _BARE_SCHEMES and not Path(uri).is_absolute():
        # a plain folder: MLflow's file store
        return str(root / uri)
    return uri


def runs_page(uri: str, experiment_id: str) -> str:
    """The UI's page of the experiment's runs table: on the server at `uri`, else `mlflow ui`'s.

    Newer MLflow UIs (3.17) take the experiment's kind from `workflowType` in the address,
    not from the tag above; MLflow 2's ignores it.
    """
    base = uri.rstrip("/") if uri.startswith(("http://", "https://")) else "http://127.0.0.1:5000"
    return f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


class Store:
    """An MlflowClient on one URI, with retries for SQLite's 'database is locked'."""

    def __init__(
        self, uri: str, root: Path, timed: Callable[[bool, bool], None] | None = None
    ) -> None:
        self.uri = uri
        self.root = root
        self.remote = is_remote(uri)
        self._timed = timed or (lambda remote, running: None)
        if uri.startswith("sqlite:///"):
            _check_sqlite_file(Path(uri.removeprefix("sqlite:///")), uri)
        with self._init_lock():
            from mlflow.tracking import MlflowClient

            # mlflow logs to stderr with its own handler; its INFO lines are noise here.
            for name in ("mlflow", "alembic"):
                logging.getLogger(name).setLevel(logging.WARNING)

            self.client = MlflowClient(tracking_uri=uri)
            # The first use of a fresh SQLite file creates its schema; do it under the lock.
            self.call(self.client.search_experiments, max_results=1)

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a client method, retrying while a SQLite store is busy."""
        for attempt in range(_RETRIES):
            try:
                self._timed(self.remote, True)
                return method(*args, **kwargs)
            except Exception as exc:
                if not _is_transient(exc) or attempt == _RETRIES - 1:
                    raise
                delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
                log.debug("tracking store busy (%s); retrying in %.2fs", exc, delay)
                time.sleep(delay)
            finally:
                self._timed(self.remote, False)
        raise AssertionError("unreachable")

    def experiment_id(self, name: str) -> str:
        """The id of experiment `name`, created (with artifacts in the project) if missing."""
        found = self.call(self.client.get_experiment_by_name, name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                self.call(self.client.restore_experiment, found.experiment_id)
            return str(found.experiment_id)
        try:
            return str(
                self.call(
                    self.client.create_experiment,
                    name,
                    artifact_location=self._artifact_location(name),
                    tags=dict(EXPERIMENT_TAGS),
                )
            )
        except Exception:  # created meanwhile by another process
            found = self.call(self.client.get_experiment_by_name, name)
            if found is None:
                raise
            return str(found.experiment_id)

    def _artifact_location(self, experiment: str) -> str | None:
        if not self.uri.startswith("sqlite:"):
            return None  # a server or other store knows where its artifacts go
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in experiment)
        return (self.root / "mlartifacts" / safe).as_uri()

    @contextlib.contextmanager
    def _init_lock(self) -> Iterator[None]:
        """Serialise opening a local SQLite store: its schema is created on first use."""
        if not self.uri.startswith("sqlite:///"):
            yield
            return
        database = Path(self.uri.removeprefix("sqlite:///"))
        database.parent.mkdir(parents=True, exist_ok=True)
        lock_path = database.with_name(f".{database.name}.lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _check_sqlite_file(database: Path, uri: str) -> None:
    """Refuse, in one message, a SQLite store MLflow could not open or write.

    MLflow would otherwise retry for minutes and log each attempt at length.
    """
    problem = None
    if database.is_dir():
        problem = "is a folder, not a SQLite file"
    elif database.exists() and not os.access(database, os.R_OK | os.W_OK):
        problem = "cannot be written (no permission, or a read-only file system)"
    elif database.parent.is_dir() and not os.access(database.parent, os.W_OK | os.X_OK):
        problem = "is in a folder that cannot be written (SQLite writes a journal beside it)"
    if problem is not None:
        raise TrackingError(
            f"the MLflow store {database} {problem}",
            ["fix it, or choose another store with tracking.uri=..."],
        )


def _is_transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("database is locked", "database table is locked", "busy"))
