"""`python -m nexus new-case NAME [--from CASE]`: a case that runs as made, or a copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from nexus.cli.main import main
from nexus.testing import TempProject

if TYPE_CHECKING:
    from conftest import ProjectDir

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = resources.files("nexus.templates")


@pytest.fixture
def catalog(make_project: Callable[[str], ProjectDir]) -> ProjectDir:
    """tests/resources/projects/catalog: case 'words' (Tokenizer -> Counter)."""
    return make_project("catalog")


def created(project: ProjectDir, *args: str) -> list[str]:
    """The lines `python -m nexus new-case ARGS` prints; it must succeed quietly."""
    code = main(["new-case", *args])
    out, err = project.capsys.readouterr()
    assert (code, err) == (0, "")
    return out.splitlines()


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_template_runs_as_made(catalog: ProjectDir) -> None:
    lines = created(catalog, "fresh")
    run_dir = catalog.run("case=fresh")

    assert lines == [
        "created cases/fresh/case.yaml",
        "created cases/fresh/raw_data/numbers.csv",
        "created plugins/example_steps.py",
        "run it: python -m nexus case=fresh",
    ]
    assert (run_dir / "scaled.csv").read_text() == "name,value\nalpha,3.0\nbeta,-4.0\ngamma,8.0\n"
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["metrics"] == {"total": 7.0}


def test_the_template_is_commented_and_names_the_case(catalog: ProjectDir) -> None:
    created(catalog, "fresh")

    text = (catalog.root / "cases/fresh/case.yaml").read_text()
    assert text.startswith("# The case 'fresh', made by `python -m nexus new-case fresh`.")
    assert "#   python -m nexus case=fresh\n" in text
    assert "#   python -m nexus case=fresh pipeline.factor=10\n" in text
    assert "$" not in text
    assert sum(line.startswith("#") for line in text.splitlines()) >= 15
    assert yaml.safe_load(text) == {
        "description": "A template case that scales a small table of numbers.",
        "io_mapping": {
            "numbers": {"path": "raw_data/numbers.csv"},
            "scaled": {"path": "scaled.csv"},
        },
        "steps": ["Example Scaler"],
        "pipeline": {"factor": 2},
    }
    example = (catalog.root / "plugins/example_steps.py").read_text()
    assert example == TEMPLATES.joinpath("example_steps.py").read_text()


def test_the_example_step_is_written_once_and_then_left_alone(catalog: ProjectDir) -> None:
    created(catalog, "first")
    example = catalog.root / "plugins/example_steps.py"
    example.write_text(example.read_text().replace("Field(2.0, gt=0", "Field(3.0, gt=0"))

    lines = created(catalog, "second")
    run_dir = catalog.run("case=second", "pipeline.factor=0.5")

    assert "created plugins/example_steps.py" not in lines
    assert "Field(3.0, gt=0" in example.read_text()
    assert (run_dir / "scaled.csv").read_text() == "name,value\nalpha,0.75\nbeta,-1.0\ngamma,2.0\n"


def test_a_copy_of_a_case_with_its_inputs(catalog: ProjectDir) -> None:
    original = catalog.run("case=words")

    lines = created(catalog, "words_again", "--from", "words")
    copy = catalog.run("case=words_again")

    assert lines == [
        "created cases/words_again/case.yaml",
        "created cases/words_again/raw/input.txt",
        "run it: python -m nexus case=words_again",
    ]
    text = (catalog.root / "cases/words_again/case.yaml").read_text()
    source = (catalog.root / "cases/words/case.yaml").read_text()
    header = "# Copied from cases/words by `python -m nexus new-case words_again --from words`.\n"
    assert text == header + source
    assert (copy / "counts.json").read_text() == (original / "counts.json").read_text()
    assert not (catalog.root / "plugins/example_steps.py").exists()


def test_from_with_an_equals_sign(catalog: ProjectDir) -> None:
    assert created(catalog, "--from=words", "w2")[0] == "created cases/w2/case.yaml"


def test_a_new_case_runs_in_a_fresh_process(nexus_project: TempProject) -> None:
    made = nexus_project.run("new-case", "first")
    run = nexus_project.run("case=first", "pipeline.factor=10")

    assert made.stderr == ""
    assert made.stdout.splitlines()[-1] == "run it: python -m nexus case=first"
    assert run.manifest["status"] == "completed"
    assert run.manifest["metrics"] == {"total": 35.0}


def test_the_template_runs_beside_the_demo_of_this_repository(tmp_path: Path) -> None:
    project = TempProject(tmp_path / "copy")
    for folder in ("conf", "plugins"):
        shutil.copytree(
            REPO / folder, project.root / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    (project.root / "cases/demo").mkdir(parents=True)
    shutil.copy(REPO / "cases/demo/case.yaml", project.root / "cases/demo/case.yaml")

    project.run("new-case", "my_study")
    run = project.run("case=my_study", "tracking.enabled=false")
    listed = project.run("list", "cases").stdout.splitlines()

    assert run.manifest["status"] == "completed"
    assert [line.split()[1] for line in listed] == ["demo", "my_study"]


def usage(extra: str = "") -> str:
    return extra + "  usage: python -m nexus new-case NAME [--from CASE]\n"


@pytest.mark.parametrize(
    ("args", "files", "expected"),
    [
        ([], {}, "nexus: new-case needs one name, got no name\n" + usage()),
        (["a", "b"], {}, "nexus: new-case needs one name, got 2 names (a, b)\n" + usage()),
        (
            ["my case"],
            {},
            "nexus: invalid case name 'my case'\n"
            "  a case name is a folder name: a letter, then letters, digits, '_' or '-' "
            "(at most 64)\n"
            "  for example: python -m nexus new-case my_case\n",
        ),
        (
            ["../escape"],
            {},
            "nexus: invalid case name '../escape'\n"
            "  a case name is a folder name: a letter, then letters, digits, '_' or '-' "
            "(at most 64)\n"
            "  for example: python -m nexus new-case escape\n",
        ),
        (
            ["2024_run"],
            {},
            "nexus: invalid case name '2024_run'\n"
            "  a case name is a folder name: a letter, then letters, digits, '_' or '-' "
            "(at most 64)\n"
            "  for example: python -m nexus new-case case_2024_run\n",
        ),
        (
            ["x" * 65],
            {},
            f"nexus: invalid case name '{'x' * 65}'\n"
            "  a case name is a folder name: a letter, then letters, digits, '_' or '-' "
            "(at most 64)\n"
            f"  for example: python -m nexus new-case {'x' * 64}\n",
        ),
        (
            ["Null"],
            {},
            "nexus: invalid case name 'Null'\n"
            "  Hydra reads case=Null as null, not as a name\n"
            "  for example: python -m nexus new-case case_Null\n",
        ),
        (
            ["true"],
            {},
            "nexus: invalid case name 'true'\n"
            "  Hydra reads case=true as a boolean, not as a name\n"
            "  for example: python -m nexus new-case case_true\n",
        ),
        (
            ["words"],
            {},
            "nexus: case 'words' exists already: cases/words/case.yaml\n"
            "  choose another name, or edit that file\n",
        ),
        (
            ["notes"],
            {"cases/notes/todo.txt": "not a case yet"},
            "nexus: cannot create case 'notes': cases/notes exists already\n"
            "  choose another name, or move that folder away\n",
        ),
        (
            ["w2", "--from", "wrods"],
            {},
            "nexus: unknown case 'wrods' in --from\n"
            "  did you mean 'words'?\n"
            "  available cases: words\n",
        ),
        (
            ["words", "--from", "words"],
            {},
            "nexus: case 'words' exists already: cases/words/case.yaml\n"
            "  choose another name, or edit that file\n",
        ),
        (["w2", "--from"], {}, "nexus: --from needs a case: new-case NAME --from CASE\n"),
        (
            ["w2", "--form", "words"],
            {},
            "nexus: new-case does not take '--form'\n  did you mean '--from'?\n" + usage(),
        ),
    ],
    ids=[
        "no-name",
        "two-names",
        "space",
        "path",
        "leading-digit",
        "too-long",
        "hydra-null",
        "hydra-boolean",
        "existing-case",
        "existing-folder",
        "unknown-source",
        "copy-onto-existing",
        "from-without-case",
        "unknown-option",
    ],
)
def test_mistakes_create_nothing(
    catalog: ProjectDir, args: list[str], files: dict[str, str], expected: str
) -> None:
    for relative, text in files.items():
        catalog.write(relative, text)
    before = files_of(catalog.root)

    err = catalog.fail("new-case", *args)

    assert err == expected
    assert files_of(catalog.root) == before
    assert catalog.capsys.readouterr().out == ""


def test_help(catalog: ProjectDir) -> None:
    assert main(["new-case", "--help"]) == 0

    out = catalog.capsys.readouterr().out
    assert out.startswith("usage: python -m nexus new-case NAME [--from CASE]\n")
    assert not (catalog.root / "cases/--help").exists()
