"""Finding plugins, handlers and generators: built-ins, entry points, conf modules, plugins/."""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from nexus.errors import NexusError, PluginImportError
from nexus.project import Project
from nexus.registry import Registry

__all__ = ["ENTRY_POINT_GROUPS", "discover", "plugin_module_names"]

ENTRY_POINT_GROUPS = ("nexus.handlers", "nexus.plugins")
BUILTIN_MODULES = (
    "nexus.handlers.tabular",
    "nexus.handlers.json_handler",
    "nexus.handlers.frames",
    "nexus.handlers.video",
)


def discover(project: Project, modules: Iterable[str] = ()) -> Registry:
    """A fresh Registry with everything the project and the installed packages provide."""
    registry = Registry()
    for name in BUILTIN_MODULES:
        registry.add_from(importlib.import_module(name), "nexus")
    for group in ENTRY_POINT_GROUPS:
        for point in sorted(entry_points(group=group), key=lambda p: p.name):
            origin = f"entry point '{point.name}' of {point.dist.name if point.dist else '?'}"
            _add(registry, _load_entry_point(point, origin), origin)
    for name in modules:
        _add(registry, _import(name, f"conf/ plugin_modules: {name}"), f"module {name}")
    _ensure_on_path(project.root)
    for name, path in plugin_module_names(project):
        shown = project.relative(path)
        registry.add_from(_import(name, shown), shown)
    return registry


def plugin_module_names(project: Project) -> list[tuple[str, Path]]:
    """Dotted names and files of the modules under `plugins/` (tests and hidden files skipped)."""
    if not project.plugins_dir.is_dir():
        return []
    found = []
    for path in sorted(project.plugins_dir.rglob("*.py")):
        parts = path.relative_to(project.root).with_suffix("").parts
        if any(p.startswith((".", "_")) and p != "__init__" for p in parts) or _is_test(path):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join(parts), path))
    return found


def _is_test(path: Path) -> bool:
    return path.name.startswith("test_") or path.name == "conftest.py"


def _ensure_on_path(root: Path) -> None:
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def _add(registry: Registry, obj: object, origin: str) -> None:
    if isinstance(obj, ModuleType):
        registry.add_from(obj, origin)
    else:  # an entry point may name one plugin function or handler class
        holder = type("_Holder", (), {"obj": obj})
        registry.add_from(holder, origin)


def _load_entry_point(point: object, origin: str) -> object:
    try:
        return point.load()  # type: ignore[attr-defined]
    except NexusError:
        raise
    except Exception as exc:
        raise PluginImportError(
            f"cannot load {origin}: {type(exc).__name__}: {exc}",
            [
                f"entry point value: {point.value}",  # type: ignore[attr-defined]
                "fix or uninstall that package",
            ],
        ) from exc


def _import(name: str, shown: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except NexusError:
        raise
    except Exception as exc:
        raise PluginImportError(
            f"cannot import plugin module {shown}: {type(exc).__name__}: {exc}",
            [_where_it_failed(exc), "fix the module, or move it out of plugins/"],
        ) from exc


def _where_it_failed(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "importlib" not in f.filename]
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"at {exc.filename}:{exc.lineno}"
    if not own:
        return ""
    last = own[-1]
    return f"at {last.filename}:{last.lineno}: {last.line or ''}".rstrip(": ")
