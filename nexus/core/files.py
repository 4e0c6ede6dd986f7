"""Writing files atomically: through a hidden temporary sibling, renamed into place.

Every temporary file nexus writes is named `.partial-<random>.<final name>`, so what a
killed process leaves behind is found by one pattern (`PARTIAL_GLOB`, see nexus.run.orphans).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PARTIAL_GLOB", "atomic_path", "partial_path", "remove_path", "write_text_atomic"]

PARTIAL_PREFIX = ".partial-"
PARTIAL_GLOB = f"{PARTIAL_PREFIX}*"  # matches every temporary file that partial_path names


def partial_path(final: Path) -> Path:
    """A new hidden temporary sibling of `final`, unique to this write."""
    # Ends with the final name, so a handler that reads the extension (`.tar.gz`) sees all of it.
    return final.with_name(f"{PARTIAL_PREFIX}{uuid.uuid4().hex[:8]}.{final.name}")


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; when the block succeeds it replaces `final` at once.

    A failure or a kill part-way leaves at most the hidden temporary sibling (removed here
    on a failure), never a truncated `final`. The temporary path may become a directory.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(final)
    try:
        yield partial
        if final.is_dir() and not final.is_symlink():
            shutil.rmtree(final)
        os.replace(partial, final)
    except BaseException:
        remove_path(partial)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8, `\\n` line ends) to `path` atomically."""
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8", newline="\n")


def remove_path(path: Path) -> None:
    """Remove a file, a symlink or a directory tree, if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)
