"""`run.json`: the manifest of a run, written when it starts and finished last."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from nexus import __version__
from nexus.run.rundirs import write_manifest

__all__ = ["Manifest", "Output", "code_version", "path_size", "process_start"]


class Output(NamedTuple):
    """A saved output of a step."""

    name: str
    path: Path
    handler: str


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")


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
            "started": _now(),
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
        self, name: str, status: str, seconds: float, outputs: Sequence[Output] = ()
    ) -> None:
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
        )
        self.write()

    def finish(self, status: str, error: BaseException | None = None) -> None:
        """Mark the run `completed`, `failed` or `interrupted`; this is the last write."""
        self.data.update(status=status, finished=_now())
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
