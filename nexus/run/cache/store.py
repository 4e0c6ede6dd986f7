"""The index of earlier results: small records under `outputs/.nexus-cache/`, and placing them.

The run directories are the store. A record, one file per (step, key, run), names a run
that holds a step's outputs, with each file's size, mtime and hash; it is written by temp
file and rename, so it is whole or absent. A hit places the outputs into the new run by
reflink, else hard link, else copy; never a symlink, so every run stays self-contained.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nexus.core.files import atomic_path, write_text_atomic
from nexus.run.cache.hashing import FileHash

__all__ = ["INDEX_DIR", "Index", "check", "place", "protect"]

INDEX_DIR = ".nexus-cache"
_FICLONE = 0x40049409  # linux/fs.h: share a file's blocks (btrfs, xfs; ext4 says no)
log = logging.getLogger("nexus.run.cache")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("_") or "_"


class Index:
    """The records of one project's outputs folder."""

    def __init__(self, outputs: Path) -> None:
        self.outputs = outputs
        self.root = outputs / INDEX_DIR

    def run_name(self, run_dir: Path) -> str:
        """A run directory as a file name: its path under outputs/, `/` made `+`."""
        try:
            shown = run_dir.resolve().relative_to(self.outputs.resolve()).as_posix()
        except ValueError:
            shown = run_dir.resolve().as_posix()
        return _slug(shown.replace("/", "+"))

    def holders(self, step: str, key: str) -> Iterator[dict[str, Any]]:
        """The records of `step` with `key`, newest first, read as needed (each run that
        reused a result holds it too: there may be many); those of deleted runs are pruned."""
        files = (self.root / "entries" / _slug(step) / key).glob("*.json")
        for file in sorted(files, key=_mtime, reverse=True):
            yield from self._read_all([file])

    def recent(self, step: str, at_most: int = 20) -> list[dict[str, Any]]:
        """The newest records of `step`, whatever their key (what a miss is explained against)."""
        files = list((self.root / "entries" / _slug(step)).glob("*/*.json"))
        files = sorted(files, key=_mtime, reverse=True)[:at_most]
        return self._read_all(files)

    def of_run(self, step: str, run_dir: Path) -> dict[str, Any] | None:
        """The record of `step` held by the run `run_dir`, if any."""
        name = self.run_name(run_dir) + ".json"
        found = self._read_all(list((self.root / "entries" / _slug(step)).glob(f"*/{name}")))
        return found[0] if found else None

    def publish(self, step: str, key: str, run_dir: Path, record: dict[str, Any]) -> Path:
        """Write the record of `run_dir` holding `step`'s outputs for `key`, atomically."""
        folder = self.root / "entries" / _slug(step) / key
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{self.run_name(run_dir)}.json"
        write_text_atomic(final, json.dumps(record, indent=1, sort_keys=True))
        return final

    def _read_all(self, files: list[Path]) -> list[dict[str, Any]]:
        records = []
        for file in files:
            try:
                record = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a record pruned meanwhile by another job
            if not isinstance(record, dict) or not Path(record.get("run_dir", "")).is_dir():
                file.unlink(missing_ok=True)  # its run was deleted: the lazy prune
                continue
            records.append(record)
        return sorted(records, key=lambda r: float(r.get("created", 0)), reverse=True)

    @contextlib.contextmanager
    def lock(self, key: str, step: str, me: str) -> Iterator[None]:
        """Hold the lock of `key` while one job computes it; others wait, then reuse.

        The kernel releases it if the holder dies. Where locks are not available (some
        network filesystems) the step is computed without it: the first to publish wins.
        """
        folder = self.root / "locks"
        fd = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            _acquire(fd, step)
            os.ftruncate(fd, 0)
            os.pwrite(fd, me.encode(), 0)
        except OSError as exc:
            log.debug("no lock for %s (%s): computing without it", step, exc)
            if fd is not None:
                os.close(fd)
            fd = None
        try:
            yield
        finally:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                os.close(fd)  # closing releases the lock


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _acquire(fd: int, step: str) -> None:
    """A POSIX lock (lockf): a process's own, not shared with the workers a step forks."""
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
    holder = os.pread(fd, 500, 0).decode(errors="replace").strip() or "another job"
    log.info("%s: waiting for %s, which computes the same result", step, holder)
    started = time.perf_counter()
    fcntl.lockf(fd, fcntl.LOCK_EX)
    log.debug("%s: waited %.1fs for %s", step, time.perf_counter() - started, holder)


def check(record: dict[str, Any]) -> str | None:
    """Why the record's files cannot be reused (missing, or size or mtime changed); None if fine."""
    run_dir = Path(record["run_dir"])
    for name, output in record.get("outputs", {}).items():
        base = run_dir / output["path"]
        for path, size, mtime_ns, _ in output["files"]:
            file = base / path if path else base
            try:
                info = file.stat()
            except OSError:
                return f"{name} of {record.get('run')} is gone ({file.name})"
            if info.st_size != size or info.st_mtime_ns != mtime_ns:
                return f"{name} of {record.get('run')} was changed since ({file.name})"
    return None


def place(record: dict[str, Any], run_dir: Path) -> str:
    """Put the record's outputs into `run_dir` (each via a hidden sibling, then renamed); how."""
    origin = Path(record["run_dir"])
    ways = ["reflink", "hardlink", "copy"]  # a way that fails once is not tried again
    for output in record["outputs"].values():
        source, final = origin / output["path"], run_dir / output["path"]
        final.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(final) as partial:
            files = [p for p, *_ in output["files"]]
            for relative in files:
                target = partial / relative if relative else partial
                _put(source / relative if relative else source, target, ways)
            if not files:
                partial.mkdir()
    return ways[0]


def _put(source: Path, target: Path, ways: list[str]) -> None:
    """One file by the first of `ways` that works; the mtime kept (a sidecar relies on it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        way = ways[0]
        try:
            if way == "reflink":
                _reflink(source, target)
            elif way == "hardlink":
                os.link(source, target)
            else:
                shutil.copy2(source, target)
            return
        except OSError:
            if way == "copy":
                raise
            target.unlink(missing_ok=True)
            ways.pop(0)


def _reflink(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
    info = source.stat()
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))


def protect(root: Path, files: list[FileHash]) -> None:
    """Make published files read-only: a hard-linked copy edited in place would change them all."""
    for file in files:
        path = root / file.path if file.path else root
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.stat().st_mode)
            path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
