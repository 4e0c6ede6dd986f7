"""A real package, built and installed with pip, brings its plugin and handler by entry points.

Each test installs into a throwaway venv layered on the test environment (tests/venv_helpers),
runs `python -m nexus` there in a new process, and leaves the test environment untouched.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from venv_helpers import Venv, in_test_environment

from nexus.testing import TempProject, make_project

pytestmark = pytest.mark.e2e  # installs nexus into a fresh venv

PYPROJECT = """
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "{name}"
    version = "1.0"

    [project.entry-points."nexus.plugins"]
    {name} = "{name}.steps"

    [project.entry-points."nexus.handlers"]
    lines = "{name}.handlers:LinesHandler"
"""

STEPS = """
    \"\"\"The package's plugin, found through the `nexus.plugins` entry point group.\"\"\"

    from typing import Annotated

    from pydantic import BaseModel, Field

    from nexus import DataSink, DataSource, plugin


    class LengthsConfig(BaseModel):
        words: Annotated[list[str], DataSource(name="words")]
        lengths: Annotated[list[int] | None, DataSink(name="lengths")] = None
        plus: int = Field(0, ge=0, description="added to every length")


    @plugin(name="Word Lengths", default_config=LengthsConfig)
    def word_lengths(config: LengthsConfig) -> list[int]:
        \"\"\"The length of each word.\"\"\"
        return [len(word) + config.plus for word in config.words]
"""

HANDLERS = """
    \"\"\"The package's handler, named by the `nexus.handlers` entry point as a class.\"\"\"

    from pathlib import Path

    from nexus import handler


    @handler
    class LinesHandler:
        \"\"\"One item a line.\"\"\"

        name = "lines"
        extensions = (".lines",)

        def load(self, path: Path, **args: object) -> list[str]:
            return path.read_text(encoding="utf-8").splitlines()

        def save(self, obj: list, path: Path, **args: object) -> None:
            path.write_text("".join(f"{item}\\n" for item in obj), encoding="utf-8")
"""

TOTAL = """
    from typing import Annotated

    from pydantic import BaseModel

    from nexus import DataSink, DataSource, plugin


    class TotalConfig(BaseModel):
        lengths: Annotated[list[int], DataSource(name="lengths")]
        total: Annotated[dict | None, DataSink(name="total")] = None


    @plugin(name="Total", default_config=TotalConfig)
    def total(config: TotalConfig) -> dict:
        \"\"\"Adds the lengths up.\"\"\"
        return {"total": sum(config.lengths)}
"""

DOUBLER = """
    from typing import Annotated

    from pydantic import BaseModel

    from nexus import DataSink, DataSource, plugin


    class DoublerConfig(BaseModel):
        total: Annotated[dict, DataSource(name="total")]
        doubled: Annotated[dict | None, DataSink(name="doubled")] = None


    @plugin(name="Doubler", default_config=DoublerConfig)
    def double(config: DoublerConfig) -> dict:
        \"\"\"Doubles the total.\"\"\"
        return {"doubled": 2 * config.total["total"]}
"""

CASE = """
    io_mapping:
      words: {path: words.lines}
      lengths: {path: lengths.lines}
      total: {path: total.json}
      doubled: {path: doubled.json}
    steps: [Word Lengths, Total, Doubler]
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def build_package(folder: Path, name: str, steps: str = STEPS) -> Path:
    """A source tree that pip can build and install: pyproject.toml and src/<name>/."""
    write(folder / "pyproject.toml", PYPROJECT.format(name=name))
    write(folder / "src" / name / "__init__.py", f'"""{name}: nexus steps."""\n')
    write(folder / "src" / name / "steps.py", steps)
    write(folder / "src" / name / "handlers.py", HANDLERS)
    return folder


@pytest.fixture
def env(tmp_path: Path) -> Venv:
    return Venv.create(tmp_path / "venv")


@pytest.fixture
def project(tmp_path: Path) -> TempProject:
    """A project whose case chains the package's step, a plugins/ step and a conf/ module's."""
    project = make_project(tmp_path / "project")
    project.write("plugins/sums/total.py", TOTAL)
    project.write("projlib/doubler.py", DOUBLER)
    conf = project.root / "conf/config.yaml"
    conf.write_text(conf.read_text() + "plugin_modules: [projlib.doubler]\n")
    project.case("chain", CASE)
    project.write("cases/chain/words.lines", "alpha\nbe\n")
    return project


def nexus(env: Venv, project: TempProject, *args: str) -> tuple[int, str, str]:
    done = env.run(project.root, "python", "-m", "nexus", *args)
    return done.returncode, done.stdout, done.stderr


def test_an_installed_package_runs_in_a_case_until_it_is_uninstalled(
    env: Venv, project: TempProject, tmp_path: Path
) -> None:
    env.pip("install", "--no-deps", str(build_package(tmp_path / "src-wordtools", "wordtools")))

    code, out, err = nexus(env, project, "case=chain", "pipeline.plus=1")
    assert (code, err) == (0, ""), out
    run_dir = next((project.root / "outputs/chain").iterdir())
    assert (run_dir / "lengths.lines").read_text() == "6\n3\n"  # written by the package's handler
    assert json.loads((run_dir / "total.json").read_text()) == {"total": 9}
    assert json.loads((run_dir / "doubled.json").read_text()) == {"doubled": 18}

    code, out, err = nexus(env, project, "list", "plugins", "handlers")
    assert (code, err) == (0, "")
    squeezed = [" ".join(line.split()) for line in out.splitlines()]
    assert "plugin Word Lengths entry point 'wordtools' of wordtools words -> lengths" in squeezed
    assert "plugin Total plugins/sums/total.py lengths -> total" in squeezed
    assert "plugin Doubler module projlib.doubler total -> doubled" in squeezed
    assert "handler lines entry point 'lines' of wordtools .lines" in squeezed

    code, out, err = nexus(env, project, "docs")
    page = (project.root / "REFERENCE.md").read_text()
    assert (code, err) == (0, "")
    assert (
        "- **defined in**: `wordtools.steps.word_lengths`, entry point 'wordtools' of wordtools"
    ) in page
    assert "| `plus` | `int` | `0` | >= 0 | added to every length |" in page
    assert (
        "- **defined in**: `wordtools.handlers.LinesHandler`, entry point 'lines' of wordtools"
        in (page)
    )
    assert str(env.root) not in page

    env.pip("uninstall", "--yes", "wordtools")

    code, out, err = nexus(env, project, "list", "plugins")
    assert (code, err) == (0, "")
    assert "Word Lengths" not in out
    code, out, err = nexus(env, project, "case=chain")
    assert code == 1
    assert err.startswith("nexus: unknown plugin 'Word Lengths' in the steps of case 'chain'")
    assert not in_test_environment("wordtools")


def test_a_package_whose_module_fails_to_import_is_named_with_the_cause(
    env: Venv, project: TempProject, tmp_path: Path
) -> None:
    broken = "import not_installed_dependency_xyz\n" + textwrap.dedent(STEPS)
    env.pip(
        "install", "--no-deps", str(build_package(tmp_path / "src-broken", "brokentools", broken))
    )

    for args in (["list"], ["case=chain"], ["docs"]):
        code, out, err = nexus(env, project, *args)

        assert code == 1, args
        assert out == ""
        assert err == (
            "nexus: cannot load entry point 'brokentools' of brokentools: ModuleNotFoundError: "
            "No module named 'not_installed_dependency_xyz'\n"
            "  entry point value: brokentools.steps\n"
            f"  at {env.root}/lib/python{sys.version_info.major}.{sys.version_info.minor}"
            "/site-packages/brokentools/steps.py:1: import not_installed_dependency_xyz\n"
            "  fix or uninstall that package\n"
        ), args
    assert not (project.root / "outputs").exists()
    assert not in_test_environment("brokentools")
