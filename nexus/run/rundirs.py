"""Run directories: claiming a fresh one, and finding earlier runs of a case."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

__all__ = [
    "DirClaims",
    "earlier_runs",
    "manifest_partials",
    "read_manifest",
    "register_resolvers",
    "run_manifests",
    "update_manifest",
    "user_overrides",
    "write_manifest",
]

MANIFEST = "run.json"
_MANIFEST_PARTIAL = f".{MANIFEST}.{{pid}}.partial"  # where write_manifest writes first
PARENT_RUN_KEY = "tracking.parent_run_id"  # an override nexus adds to the jobs of a sweep


class DirClaims:
    """The run directories one command claimed, each created here, atomically."""

    def __init__(self) -> None:
        self._claimed: dict[tuple[str, str], str] = {}

    def claim(self, parent: str, stamp: str) -> str:
        """Create and return `parent/stamp`, or `parent/stamp_1`, `_2`, ... if taken.

        Two runs started in the same second, in two processes, never share a directory.
        Asked again (Hydra resolves the run directory more than once), the answer is the same.
        """
        key = (parent, stamp)
        if key not in self._claimed:
            base = Path(parent)
            base.mkdir(parents=True, exist_ok=True)
            for n in range(10_000):
                candidate = base / (stamp if n == 0 else f"{stamp}_{n}")
                try:
                    candidate.mkdir()
                except FileExistsError:
                    continue
                self._claimed[key] = str(candidate)
                break
        return self._claimed[key]


def register_resolvers() -> None:
    """Make `${nexus.unique_dir:parent,stamp}` available to Hydra's config, for a new command.

    Each call starts afresh: the command's runs claim new directories.
    """
    OmegaConf.register_new_resolver(
        "nexus.unique_dir", DirClaims().claim, use_cache=True, replace=True
    )


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The run's `run.json`, or None when it is missing or unreadable."""
    try:
        data = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def earlier_runs(case_outputs: Path) -> list[Path]:
    """Run directories of a case (single runs and sweep jobs), newest first."""
    found = [p.parent for p in run_manifests(case_outputs)]
    return sorted(found, key=_started, reverse=True)


def run_manifests(folder: Path) -> list[Path]:
    """The `run.json` of each run in a case's outputs (`*/`, `sweeps/*/*/`) or a sweep's (`*/`).

    Only at those depths: a run's own folders (frames) can hold thousands of files.
    """
    if not folder.is_dir():
        return []
    return [*folder.glob(f"*/{MANIFEST}"), *folder.glob(f"sweeps/*/*/{MANIFEST}")]


def _started(run_dir: Path) -> tuple[str, float]:
    manifest = read_manifest(run_dir) or {}
    return str(manifest.get("started", "")), (run_dir / MANIFEST).stat().st_mtime


def update_manifest(run_dir: Path, **fields: Any) -> None:
    """Set `fields` in the run's `run.json` (created if missing), atomically."""
    data = read_manifest(run_dir) or {}
    data.update(fields)
    write_manifest(run_dir, data)


def write_manifest(run_dir: Path, data: dict[str, Any]) -> None:
    """Write `run.json` through a temporary sibling, so it is never seen half-written."""
    path = run_dir / MANIFEST
    partial = path.with_name(_MANIFEST_PARTIAL.format(pid=os.getpid()))
    partial.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(partial, path)


def manifest_partials(run_dir: Path) -> list[Path]:
    """Temporary `run.json` siblings left by processes killed while writing them."""
    return list(run_dir.glob(_MANIFEST_PARTIAL.format(pid="*")))


def user_overrides(overrides: Iterable[Any]) -> list[str]:
    """A job's command-line overrides without the ones nexus adds itself."""
    return [str(o) for o in overrides if not str(o).startswith(f"{PARENT_RUN_KEY}=")]
