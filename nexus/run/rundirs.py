"""Run directories: claiming a fresh one, and finding earlier runs of a case."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from nexus.run.manifest import MANIFEST, read_manifest

__all__ = [
    "claim_unique_dir",
    "earlier_runs",
    "register_resolvers",
    "run_inside",
    "run_manifests",
    "user_overrides",
]

PARENT_RUN_KEY = "tracking.parent_run_id"  # an override nexus adds to the jobs of a sweep
_claimed: dict[tuple[str, str], str] = {}


def claim_unique_dir(parent: str, stamp: str) -> str:
    """Create and return `parent/stamp`, or `parent/stamp_1`, `_2`, ... if taken.

    The directory is created here, atomically, so two runs started in the same second,
    in two processes, never share it. Within one process the answer is remembered.
    """
    key = (parent, stamp)
    if key not in _claimed:
        base = Path(parent)
        base.mkdir(parents=True, exist_ok=True)
        for n in range(10_000):
            candidate = base / (stamp if n == 0 else f"{stamp}_{n}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            _claimed[key] = str(candidate)
            break
    return _claimed[key]


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


def forget_claims() -> None:
    """Start afresh: the next run in this process claims a new directory."""
    _claimed.clear()


def register_resolvers() -> None:
    """Make `${nexus.unique_dir:parent,stamp}` available to Hydra's config."""
    if not OmegaConf.has_resolver("nexus.unique_dir"):
        OmegaConf.register_new_resolver("nexus.unique_dir", claim_unique_dir, use_cache=True)


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
