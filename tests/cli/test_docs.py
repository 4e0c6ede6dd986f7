"""`python -m nexus docs`: REFERENCE.md, complete, deterministic, and kept current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nexus.cli.main import main

if TYPE_CHECKING:
    from conftest import ProjectDir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalog(make_project: Callable[[str], ProjectDir]) -> ProjectDir:
    """tests/resources/projects/catalog, whose REFERENCE.md is the page docs must write."""
    return make_project("catalog")


def copy_project(source: Path, target: Path) -> Path:
    """The project files of `source` (conf, plugins, every case.yaml) in `target`."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(source / "conf", target / "conf", ignore=ignore)
    shutil.copytree(source / "plugins", target / "plugins", ignore=ignore)
    for case_yaml in sorted((source / "cases").glob("*/case.yaml")):
        (target / case_yaml.parent.relative_to(source)).mkdir(parents=True)
        shutil.copy(case_yaml, target / case_yaml.relative_to(source))
    return target


def forget_plugin_modules() -> None:
    for name in [m for m in sys.modules if m == "plugins" or m.startswith("plugins.")]:
        del sys.modules[name]


def docs_in_new_process(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nexus", "docs", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_committed_reference_of_this_repository_is_current(tmp_path: Path) -> None:
    project = copy_project(REPO, tmp_path / "copy")

    done = docs_in_new_process(project)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "wrote REFERENCE.md: 3 plugins, 8 handlers, 1 generator, 2 cases\n"
    written = (project / "REFERENCE.md").read_text(encoding="utf-8")
    committed = (REPO / "REFERENCE.md").read_text(encoding="utf-8")
    assert written == committed, "REFERENCE.md is out of date: run `python -m nexus docs`"


def test_the_page_does_not_depend_on_where_the_project_is(tmp_path: Path) -> None:
    source = REPO / "tests/resources/projects/catalog"
    first = copy_project(source, tmp_path / "a")
    second = copy_project(source, tmp_path / "b/deeper/c")

    for project in (first, second):
        assert docs_in_new_process(project).returncode == 0

    text = (first / "REFERENCE.md").read_text(encoding="utf-8")
    assert text == (second / "REFERENCE.md").read_text(encoding="utf-8")
    assert str(tmp_path) not in text
    assert text == (source / "REFERENCE.md").read_text(encoding="utf-8")


def test_writes_the_expected_page(catalog: ProjectDir) -> None:
    reference = catalog.root / "REFERENCE.md"
    expected = reference.read_text(encoding="utf-8")
    reference.unlink()

    code = main(["docs"])

    out, err = catalog.capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == "wrote REFERENCE.md: 2 plugins, 9 handlers, 1 generator, 1 case\n"
    assert reference.read_text(encoding="utf-8") == expected
    assert not list(catalog.root.glob(".REFERENCE*"))  # no temporary file left


@pytest.mark.parametrize(
    "line",
    [
        # a plugin: where, config, what it receives
        "- **defined in**: `plugins/text_steps.py`, `count`",
        "- **config**: `CounterConfig`",
        "- **receives**: `config`, `metrics`",
        # its data, by logical name, with the field, type and marker's description
        "| reads | `tokens` | `tokens` | `list[str]` | yes | what to count |",
        "| reads | `stop_words` | `stop_words` | `list[str] \\| None` | no | tokens left out |",
        "| writes | `counts` | `counts` | `dict[str, int] \\| None` |  | by token |",
        "| reads | `raw_text` | `text` | `str` | yes | the text to split |",
        # its parameters: type, default, constraints, description (a | escaped)
        "| `top` | `int \\| None` | `None` | > 0 | keep the N most frequent \\| all of them |",
        "| `mode` | `Literal['tokens', 'letters']` | `'tokens'` |  |  |",
        "| `report` | `Path` | `'reports/counts.txt'` |  | unused; a path default |",
        "| `weights` | `list[float]` | `[1.0, 0.5]` | max length 4 |  |",
        "| `min_length` | `int` | `1` | >= 1, <= 50 | shorter tokens are dropped |",
        "| `separators` | `str` | `' ,.\\n'` | min length 1 | characters between tokens |",
        # the docstring's first paragraph only, on one line
        "Split a text into tokens.",
        # a handler: extensions and the arguments of load and save
        "- **defined in**: `plugins/formats/text.py`, `TextHandler`",
        "- **extensions**: `.txt`, `.text`",
        "- **load**: `load(path, encoding='utf-8', **args)`",
        "- **save**: `save(obj, path, *, encoding='utf-8', newline='\\n')`",
        "- **defined in**: `nexus.handlers.tabular.CsvHandler`, nexus (built in)",
        "- **extensions**: none: name it, `handler: frames`",
        "- **save**: `save(obj, path, fps=None, codec='libx264', crf=20, preset='medium', "
        "output_params=(), retime=True)`",
        # a generator
        "- **defined in**: `plugins/formats/text.py`, `write_sample_text`",
        # a case: steps with their own parameters, pipeline, io_mapping
        "- **steps**: 1. Tokenizer, 2. Counter (`top: 3`)",
        "- **pipeline**: `min_length: 3`",
        "- **generator**: `sample_text`",
        "| `raw_text` | input | `raw/input.txt` | `text` (by extension) |  |",
        "| `tokens` | output of Tokenizer | `tokens.json` | `json` (by extension) |  |",
        "| `counts` | output of Counter | `counts.json` | `json` | `indent: 1` |",
    ],
)
def test_the_page_describes(line: str) -> None:
    page = (REPO / "tests/resources/projects/catalog/REFERENCE.md").read_text(encoding="utf-8")

    assert line in page.splitlines()


def test_the_data_flow_is_a_mermaid_graph_of_steps_and_names() -> None:
    page = (REPO / "tests/resources/projects/catalog/REFERENCE.md").read_text(encoding="utf-8")

    graph = page[page.index("```mermaid") :].split("\n```")[0].splitlines()
    assert graph == [
        "```mermaid",
        "flowchart LR",
        '    d1[("raw_text")]',
        '    d2[("tokens")]',
        '    d3[("counts")]',
        '    s1["Tokenizer"]',
        '    s2["Counter"]',
        "    d1 --> s1",
        "    s1 --> d2",
        "    d2 --> s2",
        "    s2 --> d3",
    ]  # stop_words is left out: Counter may read it, but the case maps no file to it


def test_installed_plugins_are_named_by_module_and_package(
    catalog: ProjectDir, installed_dist: Path
) -> None:
    assert main(["docs"]) == 0
    page = (catalog.root / "REFERENCE.md").read_text(encoding="utf-8").splitlines()

    assert "- [Plugins](#plugins): Counter, Shout, Tokenizer" in page
    assert (
        "- **defined in**: `nexus_ext_demo.steps.shout`, entry point 'shout' of nexus-ext-demo"
        in page
    )
    assert (
        "- **defined in**: `nexus_ext_demo.handlers.UpperHandler`, entry point 'upper' of "
        "nexus-ext-demo"
    ) in page
    assert "| `marks` | `int` | `1` |  |  |" in page
    assert not any(str(installed_dist) in line for line in page)


def test_a_plugin_without_config_that_gets_a_logger_by_type(catalog: ProjectDir) -> None:
    catalog.write(
        "plugins/bare.py",
        """
        from logging import Logger

        from nexus import plugin


        @plugin(name="Bare")
        def bare(log: Logger) -> None:
            pass
        """,
    )

    assert main(["docs"]) == 0

    page = (catalog.root / "REFERENCE.md").read_text(encoding="utf-8")
    block = page[page.index("### Bare") : page.index("### Counter")]
    assert block.splitlines() == [
        "### Bare",
        "",
        "- **defined in**: `plugins/bare.py`, `bare`",
        "- **config**: none",
        "- **receives**: `log` (logger)",
        "- **reuse**: when its code, parameters and inputs are unchanged",
        "",
        "Reads and writes no data.",
        "",
        "No parameters.",
        "",
    ]


def test_check_passes_when_current_and_fails_when_stale(catalog: ProjectDir) -> None:
    assert main(["docs", "--check"]) == 0
    assert catalog.capsys.readouterr().out == "REFERENCE.md is up to date\n"
    steps = catalog.root / "plugins/text_steps.py"
    steps.write_text(steps.read_text().replace("shorter tokens", "short tokens"))
    forget_plugin_modules()  # a new process would import the edited module
    before = (catalog.root / "REFERENCE.md").read_text()

    err = catalog.fail("docs", "--check")

    assert err.splitlines() == [
        "nexus: 'REFERENCE.md' is out of date",
        "  the plugins, handlers or cases changed since it was written; what changed "
        "(- in REFERENCE.md, + what docs would write):",
        "    @@ -53 +53 @@",
        "    -| `min_length` | `int` | `1` | >= 1, <= 50 | shorter tokens are dropped |",
        "    +| `min_length` | `int` | `1` | >= 1, <= 50 | short tokens are dropped |",
        "  write it again: python -m nexus docs",
    ]
    assert (catalog.root / "REFERENCE.md").read_text() == before


@pytest.mark.parametrize(
    ("args", "files", "expected"),
    [
        (
            ["--chek"],
            {},
            "nexus: docs does not take '--chek'\n"
            "  did you mean '--check'?\n"
            "  usage: python -m nexus docs [--check]\n",
        ),
        (
            ["--check"],
            {"REFERENCE.md": None},
            "nexus: 'REFERENCE.md' is missing\n  write it: python -m nexus docs\n",
        ),
        (
            [],
            {"cases/odd/case.yaml": "steps: [Tokeniser]\n"},
            "nexus: unknown plugin 'Tokeniser' in the steps of case 'odd'\n"
            "  did you mean 'Tokenizer'?\n"
            "  known plugins: Counter, Tokenizer\n",
        ),
        (
            [],
            {"cases/odd/case.yaml": "steps: []\n"},
            "nexus: 1 problem in cases/odd/case.yaml\n"
            "  steps: List should have at least 1 item after validation, not 0\n"
            "  allowed keys: description, io_mapping, steps, pipeline, generator, objective\n",
        ),
    ],
    ids=["unknown-option", "check-without-a-page", "unknown-step", "unreadable-case"],
)
def test_mistakes(
    catalog: ProjectDir, args: list[str], files: dict[str, str | None], expected: str
) -> None:
    for relative, text in files.items():
        if text is None:
            (catalog.root / relative).unlink()
        else:
            catalog.write(relative, text)
    page = catalog.root / "REFERENCE.md"
    before = page.read_text() if page.exists() else None

    err = catalog.fail("docs", *args)

    assert err == expected
    assert (page.read_text() if page.exists() else None) == before
    assert catalog.capsys.readouterr().out == ""


def test_help(catalog: ProjectDir) -> None:
    assert main(["docs", "--help"]) == 0

    out = catalog.capsys.readouterr().out
    assert out.startswith("usage: python -m nexus docs [--check]\n")
    assert not (catalog.root / "outputs").exists()


def test_every_data_row_and_handler_argument_of_this_repository_is_described() -> None:
    """The committed page (checked current above): no empty description, no bare `**args`."""
    page = (REPO / "REFERENCE.md").read_text(encoding="utf-8")
    data_rows = [row for row in page.splitlines() if row.startswith(("| reads ", "| writes "))]
    argument_rows = [row for row in page.splitlines() if row.startswith(("| load ", "| save "))]

    assert len(data_rows) == 11
    assert [row for row in data_rows if row.rstrip().endswith("|  |")] == []
    assert len(argument_rows) == 47
    assert [row for row in argument_rows if row.rstrip().endswith("|  |")] == []
    assert "Not documented" not in page
    assert "| save | `crf` | `20` | quality, 0-51; lower is better, 18 is visually lossless. |" in (
        page
    )


def test_a_table_input_s_required_columns_are_documented(tmp_path: Path) -> None:
    project = tmp_path / "project"
    copy_project(REPO / "tests/resources/projects/catalog", project)
    (project / "plugins" / "tables.py").write_text(
        "from typing import Annotated\n"
        "import pandas as pd\n"
        "from pydantic import BaseModel, ConfigDict, Field\n"
        "from nexus import DataSource, plugin\n\n\n"
        "class C(BaseModel):\n"
        "    model_config = ConfigDict(arbitrary_types_allowed=True)\n"
        "    track: Annotated[pd.DataFrame, DataSource(name='track', columns=('t', 'x')),\n"
        "                     Field(description='the positions.')]\n\n\n"
        "@plugin(name='Tabler', default_config=C)\n"
        "def tabler(config: C) -> None:\n"
        "    '''Reads a table.'''\n"
    )

    assert docs_in_new_process(project).returncode == 0

    page = (project / "REFERENCE.md").read_text(encoding="utf-8")
    assert (
        "| reads | `track` | `track` | `DataFrame` | yes | the positions; columns: `t`, `x` |"
        in (page)
    )
