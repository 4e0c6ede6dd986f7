"""`python -m nexus new-case NAME [--from CASE]`: a new case from the template, or a copy.

The template runs as made. nexus ships no general-purpose steps, so the template brings its
own: `plugins/example_steps.py` (the Example Scaler) is written next to the project's other
plugins when it is missing, and the case's small input table next to its case.yaml.
"""

from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path
from string import Template

from nexus.config.cases import CASE_FILE
from nexus.core.project import Project, find_project
from nexus.errors import ProjectError, did_you_mean

__all__ = ["EXAMPLE_PLUGIN", "check_name", "command", "copy_case", "new_case"]

EXAMPLE_PLUGIN = Path("plugins") / "example_steps.py"
TEMPLATE_INPUT = Path("raw_data") / "numbers.csv"
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# Hydra reads these override values as something else than a name.
RESERVED = {
    "true": "a boolean",
    "false": "a boolean",
    "null": "null",
    "nan": "a number",
    "inf": "a number",
}

USAGE = """\
usage: python -m nexus new-case NAME [--from CASE]

Creates cases/NAME/case.yaml from a commented template that runs as made (with its input
cases/NAME/raw_data/numbers.csv and, when missing, its step in plugins/example_steps.py).
  --from CASE   copy the folder of an existing case instead"""


def command(args: list[str]) -> int:
    """`new-case NAME [--from CASE]`: create the case and say how to run it."""
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    name, source = _parse(args)
    project = find_project()
    created = copy_case(project, source, name) if source else new_case(project, name)
    for path in created:
        print(f"created {project.relative(path)}")
    print(f"run it: python -m nexus case={name}")
    return 0


def new_case(project: Project, name: str) -> list[Path]:
    """Write the template case `name` (and the example step if missing); returns the files."""
    target = _free_folder(project, name)
    files = resources.files("nexus.templates")
    text = Template(files.joinpath("case.yaml").read_text(encoding="utf-8")).substitute(name=name)
    created = [
        _write(target / CASE_FILE, text),
        _write(target / TEMPLATE_INPUT, files.joinpath("numbers.csv").read_text(encoding="utf-8")),
    ]
    plugin_file = project.root / EXAMPLE_PLUGIN
    if not plugin_file.exists():
        example = files.joinpath("example_steps.py").read_text(encoding="utf-8")
        created.append(_write(plugin_file, example))
    return created


def copy_case(project: Project, source: str, name: str) -> list[Path]:
    """Copy the folder of the case `source`, inputs too, to `cases/<name>`; returns the files."""
    target = _free_folder(project, name)
    known = project.case_names()
    if source not in known:
        raise ProjectError(
            f"unknown case '{source}' in --from",
            [did_you_mean(source, known), f"available cases: {', '.join(known) or '(none)'}"],
        )
    shutil.copytree(
        project.case_dir(source), target, ignore=shutil.ignore_patterns(".*", "__pycache__")
    )
    case_yaml = target / CASE_FILE
    header = f"# Copied from cases/{source} by `python -m nexus new-case {name} --from {source}`.\n"
    case_yaml.write_text(header + case_yaml.read_text(encoding="utf-8"), encoding="utf-8")
    others = sorted(p for p in target.rglob("*") if p.is_file() and p != case_yaml)
    return [case_yaml, *others]


def check_name(name: str) -> None:
    """Raise a ProjectError unless `name` is a safe folder name that Hydra reads as text."""
    reserved = RESERVED.get(name.lower())
    if NAME_PATTERN.fullmatch(name) and reserved is None:
        return
    reason = (
        f"Hydra reads case={name} as {reserved}, not as a name"
        if reserved
        else "a case name is a folder name: a letter, then letters, digits, '_' or '-' (at most 64)"
    )
    suggestion = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-")
    if not suggestion[:1].isalpha() or reserved:
        suggestion = f"case_{suggestion}".rstrip("_")
    raise ProjectError(
        f"invalid case name '{name}'",
        [reason, f"for example: python -m nexus new-case {suggestion[:64]}"],
    )


def _free_folder(project: Project, name: str) -> Path:
    check_name(name)
    target = project.case_dir(name)
    if (target / CASE_FILE).exists():
        raise ProjectError(
            f"case '{name}' exists already: {project.relative(target / CASE_FILE)}",
            ["choose another name, or edit that file"],
        )
    if target.exists():
        raise ProjectError(
            f"cannot create case '{name}': {project.relative(target)} exists already",
            ["choose another name, or move that folder away"],
        )
    return target


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _parse(args: list[str]) -> tuple[str, str | None]:
    """NAME and the --from CASE of the arguments."""
    names: list[str] = []
    source: str | None = None
    rest = iter(args)
    for arg in rest:
        if arg == "--from":
            source = next(rest, None)
            if source is None:
                raise ProjectError("--from needs a case: new-case NAME --from CASE")
        elif arg.startswith("--from="):
            source = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            raise ProjectError(
                f"new-case does not take '{arg}'",
                [
                    did_you_mean(arg, ["--from"]),
                    "usage: python -m nexus new-case NAME [--from CASE]",
                ],
            )
        else:
            names.append(arg)
    if len(names) != 1:
        got = "no name" if not names else f"{len(names)} names ({', '.join(names)})"
        raise ProjectError(
            f"new-case needs one name, got {got}",
            ["usage: python -m nexus new-case NAME [--from CASE]"],
        )
    return names[0], source
