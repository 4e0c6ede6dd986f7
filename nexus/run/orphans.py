"""Runs whose process died without finishing (SIGKILL, power loss), found and marked afterwards.

Such a run's `run.json` still says `running`. The next run of the case, or the end of the
sweep it belonged to, marks it `interrupted`, and names its MLflow run there if the killed
process had not. The MLflow helper of `python -m nexus` (named in run.json under `recorder`)
ends its runs `KILLED` itself when nexus dies, within moments; the scan lets it finish, then
ends any run still RUNNING: one recorded in the dead process itself (a joblib worker, or
with the helper off), or whose helper died with it.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import Any, Protocol

from omegaconf import DictConfig

from nexus.core.files import PARTIAL_GLOB, remove_path
from nexus.core.text import now_iso
from nexus.run.manifest import process_start, read_manifest, write_manifest
from nexus.run.rundirs import run_manifests

__all__ = ["RunEnder", "is_orphan", "mark_orphans"]

log = logging.getLogger("nexus.run.orphans")


class RunEnder(Protocol):
    """What ends a killed run's MLflow run (`nexus.tracking.tracker.Tracker`)."""

    timeout_s: float

    def end_orphan_run(
        self, config: DictConfig, run_id: str | None, run_dir: Path
    ) -> str | None: ...


def is_orphan(manifest: dict[str, Any]) -> bool:
    """A `running` run of this host whose process is gone (or is another one with its pid)."""
    if manifest.get("status") != "running" or manifest.get("host") != socket.gethostname():
        return False
    pid = manifest.get("pid")
    if not isinstance(pid, int):
        return False
    started = process_start(pid)
    return started is None or started != manifest.get("pid_started")


def mark_orphans(
    folder: Path, config: DictConfig | None = None, tracker: RunEnder | None = None
) -> list[Path]:
    """Mark the orphaned runs below `folder` interrupted (and KILLED in MLflow); returns them."""
    marked = []
    for manifest_path in run_manifests(folder):
        if '"running"' not in manifest_path.read_text(encoding="utf-8", errors="replace"):
            continue  # cheap test first: most runs are long finished
        run_dir = manifest_path.parent
        manifest = read_manifest(run_dir)
        if manifest is None or not is_orphan(manifest):
            continue
        _mark(run_dir, manifest)
        if config is not None and tracker is not None and config.tracking.enabled:
            _kill_tracked_run(run_dir, manifest, config, tracker)
        log.warning("the run %s was cut off (its process is gone): marked interrupted", run_dir)
        marked.append(run_dir)
    return marked


def _mark(run_dir: Path, manifest: dict[str, Any]) -> None:
    for partial in list(run_dir.rglob(PARTIAL_GLOB)):  # what the killed process was writing
        remove_path(partial)
    for step in manifest.get("steps", []):
        if step.get("status") == "running":
            step["status"] = "interrupted"
    manifest.update(
        status="interrupted",
        finished=now_iso(),
        error={
            "type": "ProcessGone",
            "message": f"process {manifest.get('pid')} ended before the run finished "
            "(killed, or the machine stopped); found by a later run",
        },
    )
    write_manifest(run_dir, manifest)


def _kill_tracked_run(
    run_dir: Path, manifest: dict[str, Any], config: DictConfig, tracker: RunEnder
) -> None:
    _wait_for_recorder(manifest.get("recorder"), tracker.timeout_s)
    try:
        run_id = tracker.end_orphan_run(config, manifest.get("mlflow_run_id"), run_dir)
    except Exception as exc:  # the store may be gone; the manifest is marked all the same
        log.warning("could not mark the MLflow run of %s KILLED: %s", run_dir, exc)
        return
    if run_id and not manifest.get("mlflow_run_id"):
        manifest["mlflow_run_id"] = run_id
        write_manifest(run_dir, manifest)


def _running(pid: int, started: str) -> bool:
    """Whether process `pid`, started at `started`, runs (not a zombie: ended, unreaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return stat[0] not in ("Z", "X") and stat[19] == started


def _wait_for_recorder(recorder: Any, timeout_s: float) -> None:
    """Let the killed run's MLflow helper finish: it ends the run it may still be creating."""
    if not isinstance(recorder, dict) or not isinstance(recorder.get("pid"), int):
        return
    started, deadline = recorder.get("pid_started"), time.monotonic() + timeout_s
    while started is not None and _running(recorder["pid"], started):
        if time.monotonic() > deadline:
            log.warning("the MLflow helper %s of a cut-off run is still busy", recorder["pid"])
            return
        time.sleep(0.05)
