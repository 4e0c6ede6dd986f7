"""Finding plugins, handlers and generators: built-ins, entry points, conf modules, plugins/."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from nexus.core.project import Project
from nexus.core.registry import Registry
from nexus.errors import NexusError, PluginImportError

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
    _ensure_on_path(project.root)  # before conf's modules too: they may live in the project
    for name in modules:
        shown = f"conf/ plugin_modules: {name}"
        _add(registry, _import(name, shown, project.root), f"module {name}")
    found = plugin_module_names(project)
    if found:
        _check_plugins_package(project)
    for name, path in found:
        shown = project.relative(path)
        registry.add_from(_import(name, shown, project.root), shown)
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


def _check_plugins_package(project: Project) -> None:
    """`plugins` must be the project's folder: a package of that name elsewhere would win."""
    try:
        spec = importlib.util.find_spec("plugins")
    except (ImportError, ValueError):
        return  # the imports that follow report it, with the module's name
    places = [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
    if spec is not None and project.plugins_dir.resolve() not in places:
        raise PluginImportError(
            "cannot import the project's plugins/: the name 'plugins' is taken by "
            f"{spec.origin or ', '.join(map(str, places))}",
            ["another package named 'plugins' is installed or on PYTHONPATH: remove or rename it"],
        )


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
                _where_it_failed(exc, Path(sys.prefix)),  # the installed package's own line
                "fix or uninstall that package",
            ],
        ) from exc


def _import(name: str, shown: str, root: Path) -> ModuleType:
    try:
        return importlib.import_module(name)
    except NexusError:
        raise
    except Exception as exc:
        raise PluginImportError(
            f"cannot import plugin module {shown}: {type(exc).__name__}: {exc}",
            [_where_it_failed(exc, root), "fix the module, or move it out of plugins/"],
        ) from exc


def _where_it_failed(exc: BaseException, root: Path) -> str:
    """The project's line that failed (the deepest), else the deepest line outside importlib."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "importlib" not in f.filename and f.filename != __file__]
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"at {exc.filename}:{exc.lineno}"
    in_project = [f for f in own if Path(f.filename).is_relative_to(root)]
    if not own:
        return ""
    last = (in_project or own)[-1]
    return f"at {last.filename}:{last.lineno}: {last.line or ''}".rstrip(": ")
