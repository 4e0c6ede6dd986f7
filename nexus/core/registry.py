"""@plugin, @handler and @generator: decorators that mark, and the Registry that collects.

The decorators analyse what they decorate once, so a mistake fails at import with the
plugin's file and line, and return it unchanged: a plugin stays a plain, testable function.
Discovery (`nexus.core.discovery`) finds the marked objects in modules and adds them to a Registry.
"""

from __future__ import annotations

import inspect
import logging
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from pydantic import BaseModel

from nexus.core.context import Metrics, RunContext
from nexus.core.markers import DataSink, DataSource, markers_of
from nexus.core.progress import Progress
from nexus.errors import PluginError, did_you_mean

__all__ = [
    "INJECTABLE",
    "GeneratorSpec",
    "HandlerSpec",
    "PluginSpec",
    "Registry",
    "generator",
    "handler",
    "plugin",
]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

PLUGIN_MARK = "__nexus_plugin__"
HANDLER_MARK = "__nexus_handler__"
GENERATOR_MARK = "__nexus_generator__"

#: What the framework injects, by parameter name.
INJECTABLE = ("config", "logger", "hub", "context", "metrics", "progress")


@dataclass(frozen=True)
class PluginSpec:
    """A plugin read once at registration: what it needs, what it reads and writes."""

    name: str
    func: Callable[..., Any]
    config_model: type[BaseModel] | None
    sources: dict[str, DataSource]
    sink: tuple[str, DataSink] | None
    injections: dict[str, str]
    file: str
    line: int
    summary: str
    origin: str = ""

    @property
    def where(self) -> str:
        """`file:line` of the function."""
        return f"{self.file}:{self.line}"

    @property
    def parameters(self) -> dict[str, Any]:
        """The config model's fields that are parameters (not sources or sinks)."""
        if self.config_model is None:
            return {}
        io_fields = set(self.sources) | ({self.sink[0]} if self.sink else set())
        return {
            name: info
            for name, info in self.config_model.model_fields.items()
            if name not in io_fields
        }

    @property
    def consumes(self) -> list[str]:
        """Logical names this plugin reads."""
        return [marker.name for marker in self.sources.values()]

    @property
    def produces(self) -> str | None:
        """The logical name this plugin writes, if any."""
        return self.sink[1].name if self.sink else None


@dataclass(frozen=True)
class HandlerSpec:
    """A handler class and the instance the DataHub uses."""

    name: str
    extensions: tuple[str, ...]
    instance: Any
    cls: type
    origin: str = ""


@dataclass(frozen=True)
class GeneratorSpec:
    """A function that (re)creates a case's raw input data: `func(case_dir) -> list[Path]`."""

    name: str
    func: Callable[[Path], list[Path]]
    origin: str = ""


def plugin(name: str, default_config: type[BaseModel] | None = None) -> Callable[[F], F]:
    """Mark a function as the plugin `name`, configured by the pydantic model `default_config`."""
    if callable(name):  # used bare, `@plugin`: the function arrived in place of the name
        file, line = _location(name)
        raise PluginError(
            f"@plugin on '{getattr(name, '__name__', name)}' needs a name",
            [f"defined at {file}:{line}", 'write @plugin(name="...", default_config=YourConfig)'],
        )

    def mark(func: F) -> F:
        setattr(func, PLUGIN_MARK, analyse_plugin(name, func, default_config))
        return func

    return mark


def handler(
    cls: C | None = None, *, name: str | None = None, extensions: tuple[str, ...] | None = None
) -> Any:
    """Mark a class as a data handler; usable bare (`@handler`) or with `name`/`extensions`."""

    def mark(klass: C) -> C:
        setattr(klass, HANDLER_MARK, analyse_handler(klass, name, extensions))
        return klass

    return mark(cls) if cls is not None else mark


def generator(name: str) -> Callable[[F], F]:
    """Mark a function that writes a case's raw data into the case directory it is given."""

    def mark(func: F) -> F:
        setattr(func, GENERATOR_MARK, GeneratorSpec(name=name, func=func))
        return func

    return mark


def analyse_plugin(
    name: str, func: Callable[..., Any], model: type[BaseModel] | None
) -> PluginSpec:
    """Read a plugin's signature and config model once; fail with its file and line."""
    file, line = _location(func)
    where = f"{file}:{line}"
    if not name or not isinstance(name, str):
        raise PluginError(f"plugin at {where} needs a non-empty name", [])
    if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise PluginError(
            f"plugin '{name}': default_config must be a pydantic BaseModel class, got {model!r}",
            [f"defined at {where}"],
        )
    if model is not None:
        _check_no_marker_as_default(name, model, where)
    sources, sinks = _io_fields(model)
    if len(sinks) > 1:
        fields = ", ".join(f"'{f}'" for f, _ in sinks)
        raise PluginError(
            f"plugin '{name}' declares {len(sinks)} DataSinks ({fields}); a step has at most one",
            [f"defined at {where}", "return one object, or split the step in two"],
        )
    return PluginSpec(
        name=name,
        func=func,
        config_model=model,
        sources=sources,
        sink=sinks[0] if sinks else None,
        injections=_injections(name, func, model, where),
        file=file,
        line=line,
        summary=(inspect.getdoc(func) or "").strip().split("\n")[0],
    )


def _check_no_marker_as_default(name: str, model: type[BaseModel], where: str) -> None:
    """`table: X = DataSource(...)` (FastAPI's `= Depends()` habit) would make a parameter."""
    for field_name, info in model.model_fields.items():
        marker = info.default
        if isinstance(marker, DataSource | DataSink):
            kind = type(marker).__name__
            raise PluginError(
                f"plugin '{name}': field '{field_name}' of {model.__name__} has a {kind} "
                "as its default value",
                [
                    f"defined at {where}",
                    f"a marker goes in the annotation: {field_name}: "
                    f"Annotated[<type>, {kind}(name='{marker.name}')]",
                ],
            )


def analyse_handler(cls: type, name: str | None, extensions: tuple[str, ...] | None) -> HandlerSpec:
    """Check a handler class has what the DataHub calls, and instantiate it."""
    file, line = _location(cls)
    name = name or getattr(cls, "name", None)
    exts = extensions if extensions is not None else getattr(cls, "extensions", ())
    exts = (exts,) if isinstance(exts, str) else tuple(exts)  # ".csv" is one extension
    missing = [m for m in ("load", "save") if not callable(getattr(cls, m, None))]
    if not name:
        missing.insert(0, "name")
    if missing:
        raise PluginError(
            f"handler class '{cls.__name__}' lacks {', '.join(missing)}",
            [
                f"defined at {file}:{line}",
                "a handler has name, extensions, load(path), save(obj, path)",
            ],
        )
    cls.name = name  # type: ignore[attr-defined]
    cls.extensions = exts  # type: ignore[attr-defined]
    return HandlerSpec(name=str(name), extensions=exts, instance=cls(), cls=cls)


def _location(obj: Any) -> tuple[str, int]:
    target = inspect.unwrap(obj)
    try:
        file = inspect.getsourcefile(target) or "<unknown>"
        line = inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        return getattr(getattr(target, "__code__", None), "co_filename", "<unknown>"), 0
    return file, line


def _io_fields(
    model: type[BaseModel] | None,
) -> tuple[dict[str, DataSource], list[tuple[str, DataSink]]]:
    sources: dict[str, DataSource] = {}
    sinks: list[tuple[str, DataSink]] = []
    if model is None:
        return sources, sinks
    for field_name, info in model.model_fields.items():
        for marker in markers_of(info):
            if isinstance(marker, DataSource):
                sources[field_name] = marker
            else:
                sinks.append((field_name, marker))
    return sources, sinks


def _injections(
    name: str, func: Callable[..., Any], model: type[BaseModel] | None, where: str
) -> dict[str, str]:
    """Map each parameter of `func` to the service it receives, by name, else by type."""
    hints = _type_hints(func)
    injections: dict[str, str] = {}
    for param in inspect.signature(func).parameters.values():
        service = _service_for(param.name, hints.get(param.name), model)
        if service is None:
            if param.default is not inspect.Parameter.empty or param.kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            ):
                continue
            hint = did_you_mean(param.name, INJECTABLE)
            unresolved = param.name not in hints and param.annotation is not param.empty
            raise PluginError(
                f"plugin '{name}' asks for parameter '{param.name}', which nexus cannot provide",
                [
                    f"defined at {where}",
                    hint,
                    f"its annotation {param.annotation!r} cannot be resolved: import that type "
                    "at run time, not under `if TYPE_CHECKING:`"
                    if unresolved
                    else "",
                    f"nexus injects: {', '.join(INJECTABLE)} (by name, or by type)",
                    "put data inputs and parameters in the config model instead",
                ],
            )
        injections[param.name] = service
    return injections


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The annotations of `func` that resolve; one that does not leaves the others usable."""
    try:
        return typing.get_type_hints(func)
    except Exception:  # e.g. a name imported under TYPE_CHECKING: resolve one by one
        pass
    hints = {}
    for param, annotation in getattr(func, "__annotations__", {}).items():
        try:
            one = SimpleNamespace(__annotations__={param: annotation})
            hints[param] = typing.get_type_hints(one, getattr(func, "__globals__", None))[param]
        except Exception:
            continue
    return hints


def _service_for(param: str, hint: Any, model: type[BaseModel] | None) -> str | None:
    if param in INJECTABLE:
        return param
    if not isinstance(hint, type):
        return None
    from nexus.core.hub import DataHub  # the hub imports this module

    by_type: list[tuple[type, str]] = [
        (logging.Logger, "logger"),
        (DataHub, "hub"),
        (RunContext, "context"),
        (Metrics, "metrics"),
        (Progress, "progress"),
    ]
    if model is not None and issubclass(hint, model):
        return "config"
    return next((service for cls, service in by_type if issubclass(hint, cls)), None)


@dataclass
class Registry:
    """The plugins, handlers and generators known to one run; tests make fresh ones."""

    plugins: dict[str, PluginSpec] = field(default_factory=dict)
    handlers: dict[str, HandlerSpec] = field(default_factory=dict)
    generators: dict[str, GeneratorSpec] = field(default_factory=dict)

    def add_from(self, namespace: Any, origin: str) -> int:
        """Register every marked object found in a module (or any object with attributes)."""
        count = 0
        for obj in list(vars(namespace).values()):
            for mark, add in (
                (PLUGIN_MARK, self.add_plugin),
                (HANDLER_MARK, self.add_handler),
                (GENERATOR_MARK, self.add_generator),
            ):
                spec = getattr(obj, mark, None)
                if spec is not None and _defines(obj, mark):
                    add(spec, origin)
                    count += 1
        return count

    def add_plugin(self, spec: PluginSpec, origin: str = "") -> None:
        """Register a plugin; a second plugin with the same name is an error naming both."""
        known = self.plugins.get(spec.name)
        if known is not None and known.func is spec.func:
            return  # found again where another module imports it: keep where it was first found
        if known is not None:
            raise PluginError(
                f"two plugins are named '{spec.name}'",
                [
                    f"one at {known.where} ({known.origin})",
                    f"one at {spec.where} ({origin})",
                    "rename one of them",
                ],
            )
        self.plugins[spec.name] = _with_origin(spec, origin)

    def add_handler(self, spec: HandlerSpec, origin: str = "") -> None:
        """Register a handler; a later one with the same name replaces a built-in one."""
        known = self.handlers.get(spec.name)
        if known is not None and (known.cls is spec.cls or _is_builtin(spec.cls)):
            return  # found again, or a built-in imported by a module: never replaces anything
        if known is not None and known.origin != "nexus":
            raise PluginError(
                f"two handlers are named '{spec.name}'",
                [
                    f"one is {_qualname(known.cls)} ({known.origin})",
                    f"one is {_qualname(spec.cls)} ({origin})",
                    "rename one of them",
                ],
            )
        self.handlers[spec.name] = _with_origin(spec, origin)

    def add_generator(self, spec: GeneratorSpec, origin: str = "") -> None:
        """Register a raw-data generator."""
        self.generators[spec.name] = _with_origin(spec, origin)

    def plugin_named(self, name: str, context: str) -> PluginSpec:
        """The plugin `name`, or an error listing the close and the known names."""
        if name in self.plugins:
            return self.plugins[name]
        raise PluginError(
            f"unknown plugin '{name}' {context}",
            [
                did_you_mean(name, list(self.plugins)),
                f"known plugins: {', '.join(sorted(self.plugins)) or '(none)'}",
            ],
        )

    def handler_for(self, name: str | None, path: str) -> HandlerSpec | None:
        """The handler named `name`, else the one whose extension matches `path`."""
        if name:
            return self.handlers.get(name)
        lowered = path.lower().rstrip("/")
        matches = [
            (len(ext), spec)
            for spec in self.handlers.values()
            for ext in spec.extensions
            if ext and lowered.endswith(ext.lower())
        ]
        # The longest matching extension wins: `.tar.gz` over `.gz`.
        return max(matches, key=lambda match: match[0], default=(0, None))[1]


def _defines(obj: Any, mark: str) -> bool:
    # A subclass of a handler class inherits the mark; count only the class that set it.
    return not isinstance(obj, type) or mark in vars(obj)


def _is_builtin(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "nexus"


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _with_origin(spec: Any, origin: str) -> Any:
    from dataclasses import replace

    return replace(spec, origin=origin) if origin and not spec.origin else spec
