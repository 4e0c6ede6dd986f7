"""The DataHub: logical names -> locations and handlers, lazy loads, atomic saves."""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexus.core.registry import HandlerSpec
from nexus.errors import DataError

__all__ = ["DataEntry", "DataHub", "atomic_save", "inside", "remove_path"]

log = logging.getLogger("nexus.core.hub")


@dataclass(frozen=True)
class DataEntry:
    """Where one logical name lives and how it is read and written.

    `producer` is the step that writes it, or None for an input of the case.
    """

    name: str
    path: Path
    handler: HandlerSpec
    args: dict[str, Any] = field(default_factory=dict)
    producer: str | None = None
    declared: str = ""


class DataHub:
    """Serves data by logical name: loaded on first use, kept in memory, saved atomically."""

    def __init__(self, entries: dict[str, DataEntry], run_dir: Path | None = None) -> None:
        self._entries = dict(entries)
        self._memory: dict[str, Any] = {}
        self._run_dir = run_dir.resolve() if run_dir is not None else None

    @property
    def names(self) -> list[str]:
        """Every logical name the hub knows."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._memory

    def entry(self, name: str) -> DataEntry:
        """The entry of `name`; an unknown name is a DataError listing the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise DataError(
                f"no data named '{name}' in this run",
                [
                    f"known names: {', '.join(sorted(self._entries)) or '(none)'}",
                    "add it to the case's io_mapping",
                ],
            ) from None

    def path(self, name: str) -> Path:
        """The file or directory of `name`."""
        return self.entry(name).path

    def get(self, name: str) -> Any:
        """The data of `name`: from memory, else loaded now by its handler."""
        if name in self._memory:
            return self._memory[name]
        entry = self.entry(name)
        self._memory[name] = self._load(entry)
        return self._memory[name]

    def put(self, name: str, obj: Any) -> None:
        """Keep `obj` in memory under `name` without saving it."""
        self._memory[name] = obj

    def save(self, name: str, obj: Any) -> Path:
        """Save `obj` as `name` atomically and keep it for the next steps; returns the path."""
        entry = self.entry(name)
        if self._run_dir is not None and not inside(entry.path, self._run_dir):
            raise DataError(
                f"refusing to write '{name}' outside the run directory: {entry.path}",
                [
                    f"declared in {entry.declared}" if entry.declared else "",
                    "give outputs a path relative to the run directory",
                ],
            )
        started = time.perf_counter()
        try:
            atomic_save(entry.handler.instance, obj, entry.path, entry.args)
        except DataError:
            raise
        except OSError as exc:
            raise DataError(
                f"cannot write '{name}' to {entry.path}: {exc.strerror or exc}",
                ["check the disk has space and the directory is writable"],
            ) from exc
        except Exception as exc:  # a wrong type, or the handler's own failure
            raise DataError(
                f"cannot save '{name}' with handler '{entry.handler.name}': {_first_line(exc)}",
                [
                    f"the step '{entry.producer}' returned {type(obj).__name__}",
                    f"target: {entry.path}",
                ],
            ) from exc
        log.debug("saved '%s' to %s in %.3fs", name, entry.path, time.perf_counter() - started)
        spent = isinstance(obj, Iterator) or getattr(
            entry.handler.instance, "reload_after_save", False
        )
        if spent:
            self._memory.pop(name, None)
        else:
            self._memory[name] = obj
        return entry.path

    def _load(self, entry: DataEntry) -> Any:
        where = f" (declared in {entry.declared})" if entry.declared else ""
        if not entry.path.exists():
            raise DataError(
                f"input '{entry.name}' not found: {entry.path}",
                [
                    f"'{entry.name}' is mapped to that path{where}",
                    "fix the path in the case's io_mapping, or create the file",
                ],
            )
        if entry.path.is_file() and entry.path.stat().st_size == 0:
            raise DataError(
                f"input '{entry.name}' is empty: {entry.path}",
                [
                    f"'{entry.name}' is mapped to that path{where}",
                    "the file has 0 bytes: was it cut off while being written?",
                ],
            )
        started = time.perf_counter()
        try:
            data = entry.handler.instance.load(entry.path, **entry.args)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(
                f"cannot read '{entry.name}' from {entry.path} with handler "
                f"'{entry.handler.name}': {_first_line(exc)}",
                [
                    f"'{entry.name}' is mapped to that path{where}",
                    "check the file is complete and in the handler's format",
                ],
            ) from exc
        log.debug(
            "loaded '%s' from %s in %.3fs", entry.name, entry.path, time.perf_counter() - started
        )
        return data


def inside(path: Path, root: Path) -> bool:
    """True when `path`, with symlinks and `..` resolved, lies within `root`."""
    return path.resolve().is_relative_to(root.resolve())


def atomic_save(handler: Any, obj: Any, final: Path, args: dict[str, Any]) -> None:
    """Let `handler` write to a temporary sibling of `final`, then rename it into place.

    A failure or a kill part-way leaves at most a hidden `.partial` sibling, never a
    truncated `final`.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    # Ends with the final name, so a handler that reads the extension (`.tar.gz`) sees all of it.
    partial = final.with_name(f".partial-{uuid.uuid4().hex[:8]}.{final.name}")
    try:
        handler.save(obj, partial, **args)
        if not partial.exists():
            raise DataError(
                f"handler '{getattr(handler, 'name', handler)}' wrote nothing for {final.name}",
                ["its save() must write to the path it is given"],
            )
        if final.is_dir() and not final.is_symlink():
            shutil.rmtree(final)
        os.replace(partial, final)
    except BaseException:
        remove_path(partial)
        raise


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
