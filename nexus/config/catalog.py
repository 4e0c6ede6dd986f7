"""What a project offers: its plugins, handlers, generators and cases, and where each comes from.

`list` and `docs` print these places; they never contain a machine's absolute paths, so the
output is the same on every machine: files of the project are shown relative to its root,
anything else by its module and the package or entry point that brought it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexus.config.params import read_global_config
from nexus.core.discovery import discover
from nexus.core.project import Project, find_project
from nexus.core.registry import Registry

__all__ = ["BUILT_IN", "Catalog", "load_catalog"]

BUILT_IN = "nexus (built in)"


@dataclass(frozen=True)
class Catalog:
    """A project and the registry discovered for it."""

    project: Project
    registry: Registry

    def origin(self, origin: str) -> str:
        """Where a registered object was found, as `list` shows it."""
        return BUILT_IN if origin == "nexus" else origin

    def defined_in(self, obj: Any, origin: str) -> str:
        """Where `obj` is defined, as REFERENCE.md shows it (Markdown).

        `plugins/x.py`, `func` for the project's own code, else `module.qualname`, origin.

        Code that nexus or an installed package brought is named by module, even when that
        package happens to sit inside the project folder (an editable install).
        """
        file = _source_file(obj)
        installed = origin == "nexus" or origin.startswith("entry point ")
        if installed or file is None or not file.is_relative_to(self.project.root):
            return f"`{obj.__module__}.{obj.__qualname__}`, {self.origin(origin)}"
        return f"`{file.relative_to(self.project.root).as_posix()}`, `{obj.__qualname__}`"


def load_catalog(project: Project | None = None) -> Catalog:
    """Discover what the project (default: the one around the current directory) offers."""
    project = project or find_project()
    modules = read_global_config(project).get("plugin_modules") or []
    return Catalog(project, discover(project, modules))


def _source_file(obj: Any) -> Path | None:
    try:
        file = inspect.getsourcefile(inspect.unwrap(obj))
    except (OSError, TypeError):
        return None
    return Path(file).resolve() if file else None
