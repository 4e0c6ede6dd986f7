"""@plugin, @handler and the Registry: what the decorators read, and what they refuse."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from pydantic import BaseModel

from nexus import DataSink, DataSource, plugin
from nexus.core.registry import INJECTABLE, Registry
from nexus.errors import PluginError

RESOURCES = Path(__file__).parents[1] / "resources"
Load = Callable[[str], ModuleType]


def reported_line(relative: str) -> int:
    """The line of a resource file marked `# <- reported`: the one an error must name."""
    lines = (RESOURCES / relative).read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, start=1) if "# <- reported" in text)


@pytest.fixture
def examples(load_module: Load, registry: Registry) -> Registry:
    """A fresh registry holding the plugins of `registry/example_plugins.py`."""
    registry.add_from(load_module("registry/example_plugins.py"), "examples")
    return registry


def test_plugin_returns_the_function_unchanged(registry: Registry) -> None:
    class Settings(BaseModel):
        n: int = 2

    def double(config: Settings) -> int:
        return config.n * 2

    marked = plugin(name="Double", default_config=Settings)(double)

    assert marked is double
    assert double(Settings(n=5)) == 10  # still a plain function
    registry.add_from(SimpleNamespace(double=double), "here")
    assert registry.plugins["Double"].func is double
    assert registry.plugins["Double"].config_model is Settings


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Plain", id="Annotated[X, M]"),
        pytest.param("Optional Of Annotated", id="Optional[Annotated[X, M]]"),
        pytest.param("Annotated Of Union", id="Annotated[X | None, M]"),
        pytest.param("Union Of Annotated", id="Annotated[X, M] | None"),
    ],
)
def test_markers_are_found_in_every_spelling(examples: Registry, name: str) -> None:
    spec = examples.plugins[name]

    assert spec.sources == {"table": DataSource(name="raw_table")}
    assert spec.sink == ("result", DataSink(name="result_table"))
    assert spec.consumes == ["raw_table"]
    assert spec.produces == "result_table"
    assert list(spec.parameters) == ["threshold"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "By Name",
            {n: n for n in ("config", "logger", "hub", "context", "metrics")},
            id="by-name",
        ),
        pytest.param(
            "By Type",
            {
                "settings": "config",
                "log": "logger",
                "data": "hub",
                "where": "context",
                "numbers": "metrics",
            },
            id="by-type",
        ),
        pytest.param("With Defaults", {"config": "config"}, id="defaulted-and-variadic-skipped"),
        pytest.param("No Config", {"logger": "logger"}, id="no-config-model"),
    ],
)
def test_injections_are_read_once_at_registration(
    examples: Registry, name: str, expected: dict[str, str]
) -> None:
    assert examples.plugins[name].injections == expected


def test_one_unresolvable_annotation_leaves_the_others_usable(
    load_module: Load, registry: Registry
) -> None:
    registry.add_from(load_module("registry/partly_resolvable.py"), "here")

    assert registry.plugins["Partly Resolvable"].injections == {"settings": "config"}


def test_a_plugin_without_config_has_no_parameters(examples: Registry) -> None:
    spec = examples.plugins["No Config"]

    assert spec.config_model is None
    assert spec.parameters == {}
    assert spec.produces is None


def test_a_plugin_records_its_file_line_and_summary(examples: Registry) -> None:
    spec = examples.plugins["Plain"]
    source = (RESOURCES / "registry/example_plugins.py").read_text(encoding="utf-8")
    line = source.splitlines().index('@plugin(name="Plain", default_config=Plain)') + 1

    assert spec.where == f"{RESOURCES / 'registry/example_plugins.py'}:{line}"
    assert spec.summary == "Returns its input."
    assert spec.origin == "examples"


@pytest.mark.parametrize(
    ("module", "expected", "absent"),
    [
        pytest.param(
            "typo_config.py",
            [
                "plugin 'Typo' asks for parameter 'confg', which nexus cannot provide",
                "did you mean 'config'?",
                f"nexus injects: {', '.join(INJECTABLE)} (by name, or by type)",
            ],
            [],
            id="misspelt-config",
        ),
        pytest.param(
            "unknown_parameter.py",
            [
                "plugin 'Argument' asks for parameter 'threshold', which nexus cannot provide",
                "put data inputs and parameters in the config model instead",
            ],
            ["did you mean"],
            id="parameter-as-argument",
        ),
        pytest.param(
            "two_sinks.py",
            [
                "plugin 'Split' declares 2 DataSinks ('left', 'right'); a step has at most one",
                "return one object, or split the step in two",
            ],
            [],
            id="two-sinks",
        ),
        pytest.param(
            "not_a_model.py",
            ["plugin 'Dataclass Config': default_config must be a pydantic BaseModel class"],
            [],
            id="config-not-a-model",
        ),
        pytest.param(
            "bare_plugin.py",
            ["@plugin on 'no_name' needs a name", '@plugin(name="...", default_config='],
            [],
            id="bare-plugin",
        ),
        pytest.param(
            "handler_without_load.py",
            [
                "handler class 'WriteOnly' lacks load",
                "a handler has name, extensions, load(path), save(obj, path)",
            ],
            ["lacks load, save"],
            id="handler-without-load",
        ),
        pytest.param(
            "type_checking_import.py",
            [
                "plugin 'Typed Hub' asks for parameter 'data', which nexus cannot provide",
                "its annotation 'DataHub' cannot be resolved: import that type at run time, "
                "not under `if TYPE_CHECKING:`",
            ],
            [],
            id="type-imported-for-the-type-checker-only",
        ),
        pytest.param(
            "marker_as_default.py",
            [
                "plugin 'Default Marker': field 'table' of Settings has a DataSource as its "
                "default value",
                "a marker goes in the annotation: table: "
                "Annotated[<type>, DataSource(name='raw_table')]",
            ],
            [],
            id="marker-as-default-value",
        ),
        pytest.param(
            "handler_without_save.py",
            ["handler class 'ReadOnly' lacks save"],
            [],
            id="handler-without-save",
        ),
        pytest.param(
            "handler_without_name.py",
            ["handler class 'Nameless' lacks name"],
            [],
            id="handler-without-name",
        ),
    ],
)
def test_a_mistake_fails_at_the_decorator_with_file_and_line(
    load_module: Load, module: str, expected: list[str], absent: list[str]
) -> None:
    relative = f"bad_plugins/{module}"

    with pytest.raises(PluginError) as caught:
        load_module(relative)

    message = str(caught.value)
    for part in [*expected, f"defined at {RESOURCES / relative}:{reported_line(relative)}"]:
        assert part in message
    for part in absent:
        assert part not in message


def test_a_defaulted_parameter_needs_no_service(registry: Registry) -> None:
    class Settings(BaseModel):
        n: int = 1

    @plugin(name="Defaulted", default_config=Settings)
    def step(config: Settings, retries: int = 3) -> int:
        return config.n + retries

    registry.add_from(SimpleNamespace(step=step), "here")

    assert registry.plugins["Defaulted"].injections == {"config": "config"}
    assert step(Settings()) == 4


def test_two_plugins_with_one_name_are_refused_naming_both(
    load_module: Load, registry: Registry
) -> None:
    registry.add_from(load_module("registry/same_name_a.py"), "plugins/a.py")

    with pytest.raises(PluginError) as caught:
        registry.add_from(load_module("registry/same_name_b.py"), "plugins/b.py")

    message = str(caught.value)
    assert "two plugins are named 'Twin Name'" in message
    for relative, origin in [("registry/same_name_a.py", "a"), ("registry/same_name_b.py", "b")]:
        assert f"{RESOURCES / relative}:{reported_line(relative)} (plugins/{origin}.py)" in message
    assert "rename one of them" in message


def test_a_plugin_found_again_in_another_module_is_registered_once(
    examples: Registry,
) -> None:
    spec = examples.plugins["Plain"]

    examples.add_from(SimpleNamespace(imported=spec.func), "another module")

    assert examples.plugins["Plain"].origin == "examples"
    assert examples.plugins["Plain"].func is spec.func


def test_unknown_plugin_lists_the_close_and_the_known_names(examples: Registry) -> None:
    with pytest.raises(PluginError) as caught:
        examples.plugin_named("Plian", "in case 'demo'")

    message = str(caught.value)
    assert "unknown plugin 'Plian' in case 'demo'" in message
    assert "did you mean 'Plain'?" in message
    assert "known plugins: Annotated Of Union, By Name, By Type," in message


def test_handler_bare_and_with_arguments(load_module: Load, registry: Registry) -> None:
    module = load_module("registry/example_handlers.py")

    registry.add_from(module, "examples")

    text, upper = registry.handlers["text"], registry.handlers["upper"]
    assert (text.cls, text.extensions) == (module.TextHandler, (".txt",))
    assert (upper.cls, upper.extensions) == (module.UpperHandler, (".up", ".upper"))
    assert module.UpperHandler.name == "upper"  # the decorator's arguments are set on the class
    assert isinstance(upper.instance, module.UpperHandler)
    assert registry.handlers["single"].extensions == (".one",)
    assert sorted(registry.handlers) == ["gz", "single", "targz", "text", "upper"]


def test_a_subclass_of_a_handler_is_not_a_handler_of_its_own(
    load_module: Load, registry: Registry
) -> None:
    module = load_module("registry/example_handlers.py")
    loud = type("LoudUpper", (module.UpperHandler,), {})

    registry.add_from(SimpleNamespace(UpperHandler=module.UpperHandler, LoudUpper=loud), "x")

    assert list(registry.handlers) == ["upper"]
    assert registry.handlers["upper"].cls is module.UpperHandler


def test_two_handlers_with_one_name_are_refused(load_module: Load, registry: Registry) -> None:
    registry.add_from(load_module("registry/example_handlers.py"), "plugins/one.py")

    with pytest.raises(PluginError) as caught:
        registry.add_from(load_module("registry/example_handlers.py"), "plugins/two.py")

    message = str(caught.value)
    assert "two handlers are named " in message
    assert "(plugins/one.py)" in message
    assert "(plugins/two.py)" in message


def _builtins(registry: Registry) -> Registry:
    for name in ("nexus.handlers.tabular", "nexus.handlers.json_handler"):
        registry.add_from(importlib.import_module(name), "nexus")
    return registry


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(("override", "reexport"), id="importer-after"),
        pytest.param(("reexport", "override"), id="importer-before"),
    ],
)
def test_a_project_handler_replaces_a_builtin_one(
    load_module: Load, registry: Registry, order: tuple[str, str]
) -> None:
    modules = {
        "override": load_module("registry/csv_override.py"),
        "reexport": load_module("registry/reexports.py"),
    }
    _builtins(registry)

    for name in order:
        registry.add_from(modules[name], name)

    assert registry.handlers["csv"].cls is modules["override"].SemicolonCsv
    assert registry.handlers["csv"].origin == "override"


@pytest.mark.parametrize(
    ("path", "name", "expected"),
    [
        pytest.param("raw/table.csv", None, "csv", id="csv"),
        pytest.param("RAW/TABLE.CSV", None, "csv", id="upper-case-extension"),
        pytest.param("states.parquet", None, "parquet", id="parquet"),
        pytest.param("states.pq", None, "parquet", id="second-extension"),
        pytest.param("doc.json", None, "json", id="json"),
        pytest.param("notes.txt", None, "text", id="bare-handler"),
        pytest.param("shout.upper", None, "upper", id="handler-with-arguments"),
        pytest.param("one.one", None, "single", id="extension-given-as-string"),
        pytest.param("notes.note", None, None, id="no-match-by-last-letter"),
        pytest.param("archive.tar.gz", None, "targz", id="longest-match-wins"),
        pytest.param("archive.gz", None, "gz", id="shorter-match"),
        pytest.param("frames/", None, None, id="no-extension"),
        pytest.param("table.csv", "json", "json", id="by-name-over-extension"),
        pytest.param("table.csv", "jsno", None, id="unknown-name"),
    ],
)
def test_handler_for(
    load_module: Load, registry: Registry, path: str, name: str | None, expected: str | None
) -> None:
    _builtins(registry).add_from(load_module("registry/example_handlers.py"), "examples")

    found = registry.handler_for(name, path)

    assert (found.name if found else None) == expected
