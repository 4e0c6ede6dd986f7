"""`run.json`: the manifest of a run, written when it starts and finished last.

This module is the one place that reads and writes the file.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from nexus.core.files import write_text_atomic
from nexus.core.text import now_iso
from nexus.core.version import __version__

__all__ = [
    "MANIFEST",
    "Manifest",
    "Output",
    "code_version",
    "path_size",
    "process_start",
    "read_manifest",
    "write_manifest",
]

MANIFEST = "run.json"


class Output(NamedTuple):
    """A saved output of a step."""

    name: str
    path: Path
    handler: str


LateField = Callable[[bool], Any]
"""A field whose value arrives during the run: asked at each write (True: the last one)."""


class Manifest:
    """The run's record; every change is written at once, atomically."""

    def __init__(
        self, run_dir: Path, data: dict[str, Any], late: Mapping[str, LateField] | None = None
    ) -> None:
        self.run_dir = run_dir
        self.data = data
        self.late = dict(late or {})

    @classmethod
    def start(
        cls, run_dir: Path, late: Mapping[str, LateField] | None = None, **fields: Any
    ) -> Manifest:
        """Write a `running` manifest for a run that starts now.

        `late` fields (e.g. the MLflow run id, made meanwhile by another process) are asked
        for at each write until they have a value; the last write waits for them.
        """
        data = {
            "status": "running",
            "mlflow_run_id": None,
            **fields,
            "run_dir": str(run_dir),
            "started": now_iso(),
            "finished": None,
            "steps": [],
            "metrics": {},
            "error": None,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "pid_started": process_start(os.getpid()),
            "nexus_version": __version__,
        }
        manifest = cls(run_dir, data, late)
        manifest.write()
        return manifest

    def step_started(self, name: str) -> None:
        self.data["steps"].append(
            {"name": name, "status": "running", "seconds": None, "outputs": []}
        )
        self.write()

    def step_finished(
        self,
        name: str,
        status: str,
        seconds: float,
        outputs: Sequence[Output] = (),
        **extra: Any,
    ) -> None:
        """Record the step's end; `extra` fields (e.g. `cache`) are added to its entry."""
        step = self._step(name)
        step.update(
            status=status,
            seconds=round(seconds, 4),
            outputs=[
                {
                    "name": o.name,
                    "path": self._shown(o.path),
                    "handler": o.handler,
                    "size": path_size(o.path),
                }
                for o in outputs
            ],
            **extra,
        )
        self.write()

    def finish(self, status: str, error: BaseException | None = None) -> None:
        """Mark the run `completed`, `failed` or `interrupted`; this is the last write."""
        self.data.update(status=status, finished=now_iso())
        if error is not None:
            message = str(error) or (
                "interrupted (Ctrl-C or SIGTERM)"
                if isinstance(error, KeyboardInterrupt)
                else type(error).__name__
            )
            self.data["error"] = {"type": type(error).__name__, "message": message}
        self.write(last=True)

    def write(self, last: bool = False) -> None:
        stopped: KeyboardInterrupt | None = None
        for key, value_of in self.late.items():
            if self.data.get(key) is None:
                try:
                    self.data[key] = value_of(last)
                except KeyboardInterrupt as exc:  # Ctrl-C while waiting: written without it
                    stopped = exc
                    break
        write_manifest(self.run_dir, self.data)
        if stopped is not None:
            raise stopped

    def _step(self, name: str) -> dict[str, Any]:
        return next(s for s in reversed(self.data["steps"]) if s["name"] == name)

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.run_dir))
        except ValueError:
            return str(path)


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The run's `run.json`, or None when it is missing or unreadable."""
    try:
        data = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(run_dir: Path, data: dict[str, Any]) -> None:
    """Write `run.json` atomically, so it is never seen half-written."""
    text = json.dumps(_strict_json(data), indent=2, default=str, allow_nan=False)
    write_text_atomic(run_dir / MANIFEST, text + "\n")


def _strict_json(value: Any) -> Any:
    """`value` with every non-finite float as a string ('inf', 'nan'): JSON has no such number."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(item) for item in value]
    return value


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), to tell it from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22 of proc(5), after "(comm)"


def path_size(path: Path) -> int:
    """Bytes of a file, or of all files in a directory."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def code_version(root: Path) -> dict[str, Any]:
    """The git commit of `root` and whether the work tree differs from it."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None}
