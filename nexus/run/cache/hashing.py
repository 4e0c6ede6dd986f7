"""Content hashes of files and directories (xxh3_128), with a stat memo against rehashing."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xxhash

from nexus.core.files import write_text_atomic

__all__ = ["HASH_NAME", "FileHash", "HashMemo", "content_hash", "file_hash", "tree_files"]

HASH_NAME = "xxh3_128"
RACY_S = 2.0  # a file modified this recently may change again within its mtime's granularity
MEMO_SIZE = 20_000  # files remembered at most (inputs; outputs are hashed when written)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileHash:
    """One file of an output: where it is (relative to the output), size, mtime and hash."""

    path: str
    size: int
    mtime_ns: int
    hash: str


def file_hash(path: Path) -> str:
    """The xxh3_128 of a file's bytes, in hex."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_files(path: Path) -> list[Path]:
    """The regular files under `path` (itself, if it is a file), sorted by relative path.

    Hidden files count (the frames' sidecar video); `.partial-*` leftovers of a save do not.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or directory: {path}")
    found = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".partial-")]
        found += [Path(folder, f) for f in files if not f.startswith(".partial-")]
    return sorted(found, key=lambda p: p.relative_to(path).as_posix())


@dataclass
class HashMemo:
    """Hashes of files by (size, mtime_ns, inode), kept in one JSON file between runs.

    A file modified within the last 2 seconds is hashed again every time: its mtime may not
    change with its next edit ("racy git").
    """

    file: Path | None = None
    known: dict[str, list[Any]] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, file: Path | None) -> HashMemo:
        """The memo kept in `file` (empty when missing or unreadable)."""
        known: dict[str, list[Any]] = {}
        if file is not None:
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
                known = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                pass
        return cls(file, known)

    def hash(self, path: Path) -> FileHash:
        """The file's hash, from the memo when its stat signature is unchanged and not fresh."""
        stat = path.stat()
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        key = str(path)
        remembered = self.known.get(key)
        if remembered is not None and remembered[:3] == signature:
            return FileHash(path.name, stat.st_size, stat.st_mtime_ns, str(remembered[3]))
        digest = file_hash(path)
        if time.time() - stat.st_mtime_ns / 1e9 > RACY_S:
            self.known[key] = [*signature, digest]
            self.changed = True
        return FileHash(path.name, stat.st_size, stat.st_mtime_ns, digest)

    def save(self) -> None:
        """Write the memo back (temp file and rename), if anything was added."""
        if self.file is None or not self.changed:
            return
        for stale in list(self.known)[: max(0, len(self.known) - MEMO_SIZE)]:
            del self.known[stale]  # the earliest remembered first: the memo stays small
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # a memo is only a shortcut
            write_text_atomic(self.file, json.dumps(self.known))
        self.changed = False


def content_hash(path: Path, memo: HashMemo | None = None) -> tuple[str, list[FileHash]]:
    """The hash of a file, or of a directory as its sorted (name, size, hash) list; its files."""
    memo = memo if memo is not None else HashMemo()
    if path.is_file():
        one = memo.hash(path)
        return one.hash, [FileHash("", one.size, one.mtime_ns, one.hash)]
    files = []
    for file in tree_files(path):
        found = memo.hash(file)
        files.append(FileHash(file.relative_to(path).as_posix(), *_rest(found)))
    listing = "".join(f"{f.path}\0{f.size}\0{f.hash}\n" for f in files)
    return "dir:" + xxhash.xxh3_128_hexdigest(listing.encode()), files


def _rest(found: FileHash) -> tuple[int, int, str]:
    return found.size, found.mtime_ns, found.hash
