"""`python -m nexus init DIR`: a new project that runs at once.

It holds `conf/config.yaml`, the template case `cases/example` with its example step in
`plugins/example_steps.py`, a test of both in `tests/`, a `pyproject.toml` that lets pytest
import `plugins`, and a `.gitignore` for what nexus writes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from nexus.cli.scaffold import new_case
from nexus.core.project import MARKER, Project
from nexus.errors import ProjectError

__all__ = ["EXAMPLE_CASE", "command", "init_project"]

EXAMPLE_CASE = "example"
USAGE = """\
usage: python -m nexus init DIR

Creates a nexus project in DIR (a new or empty folder; '.' for this one): conf/config.yaml,
the case cases/example with its step in plugins/example_steps.py, and a test in tests/.
Then: cd DIR && python -m nexus case=example"""

# template file -> where it goes in the project
_FILES = {
    "config.yaml": MARKER,
    "project_test.py": Path("tests") / "test_example.py",
    "project_pyproject.toml": Path("pyproject.toml"),
    "project_gitignore.txt": Path(".gitignore"),
}


def command(args: list[str]) -> int:
    """`init DIR`: create the project and say how to run it."""
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    if len(args) != 1 or args[0].startswith("-"):
        got = "nothing" if not args else " ".join(args)
        raise ProjectError(f"init needs one folder, got {got}", [USAGE.splitlines()[0]])
    root = Path(args[0])
    for path in init_project(root):
        print(f"created {path.relative_to(root.resolve()).as_posix()}")
    where = "" if root.resolve() == Path.cwd().resolve() else f"cd {args[0]} && "
    print(f"run it: {where}python -m nexus case={EXAMPLE_CASE}")
    print(f"test it: {where}python -m pytest")
    return 0


def init_project(root: Path) -> list[Path]:
    """Write a new project at `root` (missing or empty); returns the files written."""
    root = root.resolve()
    if (root / MARKER).exists():
        raise ProjectError(
            f"{root} is a nexus project already: it has {MARKER}",
            [f"add a case to it instead: python -m nexus new-case NAME (in {root})"],
        )
    if root.exists() and not root.is_dir():
        raise ProjectError(f"cannot create a project in {root}: it is a file")
    if root.is_dir() and any(p.name != ".git" for p in root.iterdir()):
        raise ProjectError(
            f"cannot create a project in {root}: the folder is not empty",
            ["name a new folder: python -m nexus init DIR"],
        )
    templates = resources.files("nexus.templates")
    written = []
    for template, target in _FILES.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(templates.joinpath(template).read_text(encoding="utf-8"), encoding="utf-8")
        written.append(path)
    written[1:1] = new_case(Project(root), EXAMPLE_CASE)
    return written
