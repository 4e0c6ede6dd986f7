"""Discovery: plugins/ (with subfolders), conf's plugin_modules, installed entry points."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nexus.core.discovery import discover, plugin_module_names
from nexus.core.project import Project
from nexus.errors import PluginImportError

if TYPE_CHECKING:
    from conftest import ProjectDir

BUILTIN_HANDLERS = {"csv", "parquet", "json", "frames", "mp4"}

ONE_PLUGIN = """
    from nexus import plugin


    @plugin(name="{name}")
    def step() -> None:
        \"\"\"Does nothing.\"\"\"
"""

EXPLODES = """
    raise RuntimeError("this module must not be imported")
"""


def test_every_module_under_plugins_is_found(project: ProjectDir) -> None:
    project.write("plugins/top.py", ONE_PLUGIN.format(name="Top"))
    project.write("plugins/a/b/deep.py", ONE_PLUGIN.format(name="Deep"))
    project.write("plugins/a/test_deep.py", EXPLODES)
    project.write("plugins/conftest.py", EXPLODES)
    project.write("plugins/.ipynb_checkpoints/top-checkpoint.py", EXPLODES)
    project.write("plugins/_scratch.py", EXPLODES)

    registry = discover(Project(project.root))

    assert {"Top", "Deep", "Maker", "User"} <= set(registry.plugins)
    assert registry.plugins["Deep"].origin == "plugins/a/b/deep.py"
    assert set(registry.handlers) >= BUILTIN_HANDLERS
    assert [name for name, _ in plugin_module_names(Project(project.root))] == [
        "plugins.a.b.deep",
        "plugins.steps",
        "plugins.top",
    ]


def test_a_fresh_registry_each_time(project: ProjectDir) -> None:
    first = discover(Project(project.root))
    project.write("plugins/later.py", ONE_PLUGIN.format(name="Later"))

    second = discover(Project(project.root))

    assert second is not first
    assert "Later" in second.plugins
    assert "Later" not in first.plugins


def test_a_module_listed_in_conf_is_imported(project: ProjectDir) -> None:
    project.write(
        "projlib/extra_steps.py",
        """
        from typing import Annotated

        from pydantic import BaseModel

        from nexus import DataSink, plugin


        class ExtraConfig(BaseModel):
            out: Annotated[dict | None, DataSink(name="extra")] = None
            value: int = 1


        @plugin(name="Extra", default_config=ExtraConfig)
        def extra(config: ExtraConfig) -> dict:
            \"\"\"Writes its value.\"\"\"
            return {"value": config.value}
        """,
    )
    conf = project.root / "conf/config.yaml"
    conf.write_text(conf.read_text() + "plugin_modules: [projlib.extra_steps]\n")
    project.case("extra", "io_mapping: {extra: {path: extra.json}}\nsteps: [Extra]\n")

    registry = discover(Project(project.root), ["projlib.extra_steps"])
    run = project.run("case=extra", "pipeline.value=7")

    assert registry.plugins["Extra"].origin == "module projlib.extra_steps"
    assert json.loads((run / "extra.json").read_text()) == {"value": 7}


def test_entry_points_of_an_installed_distribution(
    project: ProjectDir, installed_dist: Path
) -> None:
    project.case(
        "shout",
        """
        io_mapping:
          text: {path: in.up}
          shouted: {path: out.up}
        steps: [Shout]
        """,
    )
    project.write("cases/shout/in.up", "hello\n")

    registry = discover(Project(project.root))
    run = project.run("case=shout", "pipeline.marks=3")

    assert registry.plugins["Shout"].origin == "entry point 'shout' of nexus-ext-demo"
    assert registry.handlers["upper"].origin == "entry point 'upper' of nexus-ext-demo"
    assert registry.plugins["Shout"].file == str(installed_dist / "nexus_ext_demo/steps.py")
    assert (run / "out.up").read_text(encoding="utf-8") == "HELLO!!!"


def test_a_broken_entry_point_names_the_distribution(
    project: ProjectDir, installed_dist: Path
) -> None:
    points = installed_dist / "nexus_ext_demo-1.0.dist-info/entry_points.txt"
    points.write_text(points.read_text() + "gone = nexus_ext_demo.removed:Handler\n")

    with pytest.raises(PluginImportError) as caught:
        discover(Project(project.root))
    err = project.fail("case=c1")

    for message in (str(caught.value), err):
        assert "cannot load entry point 'gone' of nexus-ext-demo: ModuleNotFoundError" in message
        assert "entry point value: nexus_ext_demo.removed:Handler" in message
        assert "fix or uninstall that package" in message


@pytest.mark.parametrize(
    ("source", "expected", "line"),
    [
        pytest.param(
            "import os\nimport not_a_real_module_xyz\n",
            "ModuleNotFoundError: No module named 'not_a_real_module_xyz'",
            2,
            id="import-error",
        ),
        pytest.param("x = 1\n\ndef broken(:\n    pass\n", "SyntaxError: ", 3, id="syntax-error"),
        pytest.param(
            "VALUE = 1\nraise RuntimeError('boom at import')\n",
            "RuntimeError: boom at import",
            2,
            id="exception-at-import",
        ),
        pytest.param(
            "import json\njson.loads('{')\n",
            "JSONDecodeError: Expecting property name",
            2,
            id="error-in-a-call",
        ),
    ],
)
def test_a_module_that_fails_to_import_is_named_with_its_cause(
    project: ProjectDir, source: str, expected: str, line: int
) -> None:
    path = project.write("plugins/sub/broken.py", source)

    with pytest.raises(PluginImportError) as caught:
        discover(Project(project.root))
    err = project.fail("case=c1")

    for message in (str(caught.value), err):
        assert "cannot import plugin module plugins/sub/broken.py: " + expected in message
        assert f"at {path}:{line}" in message
        assert "fix the module, or move it out of plugins/" in message


def test_a_plugin_defined_wrongly_is_reported_at_discovery(project: ProjectDir) -> None:
    path = project.write(
        "plugins/wrong.py",
        """
        from nexus import plugin


        @plugin(name="Wrong")
        def wrong(confg) -> None:
            \"\"\"Misspells config.\"\"\"
        """,
    )

    err = project.fail("case=c1")

    assert "plugin 'Wrong' asks for parameter 'confg', which nexus cannot provide" in err
    assert f"defined at {path}:4" in err
    assert "did you mean 'config'?" in err


def test_two_plugins_with_one_name_in_a_project(project: ProjectDir) -> None:
    project.write("plugins/one.py", ONE_PLUGIN.format(name="Same"))
    project.write("plugins/two.py", ONE_PLUGIN.format(name="Same"))

    err = project.fail("case=c1")

    assert "two plugins are named 'Same'" in err
    assert f"one at {project.root / 'plugins/one.py'}:4 (plugins/one.py)" in err
    assert f"one at {project.root / 'plugins/two.py'}:4 (plugins/two.py)" in err


def test_a_package_named_plugins_elsewhere_is_named(project: ProjectDir, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "plugins").mkdir(parents=True)
    (site / "plugins" / "__init__.py").write_text('"""Some installed package."""\n')
    sys.path.append(str(site))  # last: a regular package still wins over plugins/ without one

    with pytest.raises(PluginImportError) as caught:
        discover(Project(project.root))
    err = project.fail("case=c1")

    for message in (str(caught.value), err):
        assert (
            "cannot import the project's plugins/: the name 'plugins' is taken by "
            f"{site / 'plugins' / '__init__.py'}"
        ) in message
        assert "another package named 'plugins' is installed or on PYTHONPATH" in message
