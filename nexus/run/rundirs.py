"""Run directories: finding earlier runs of a case, and the overrides a run was given."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nexus.run.manifest import MANIFEST, read_manifest

__all__ = [
    "earlier_runs",
    "run_inside",
    "run_manifests",
    "user_overrides",
]

PARENT_RUN_KEY = "tracking.parent_run_id"  # an override nexus adds to the jobs of a sweep


def run_inside(folder: Path) -> Path | None:
    """The `run.json` of a run in `folder` or below it (an earlier run, or a folder of runs)."""
    try:
        if not folder.is_dir():
            return None
        if (folder / MANIFEST).exists() or (folder / ".hydra").exists():
            return folder / MANIFEST
        return next(folder.rglob(MANIFEST), None)
    except OSError:  # a name too long, a folder not readable: the run's own start says so
        return None


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


def user_overrides(overrides: Iterable[Any]) -> list[str]:
    """A job's command-line overrides without the ones nexus adds itself."""
    return [str(o) for o in overrides if not str(o).startswith(f"{PARENT_RUN_KEY}=")]
