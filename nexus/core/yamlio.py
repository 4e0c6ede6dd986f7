"""Reading the YAML a user writes: safe (no code), strict (no duplicate keys), precise errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nexus.core.yamlshape import check_shape
from nexus.errors import ProjectError

__all__ = ["check_yaml_tree", "load_yaml"]


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`; its keys may be overridden
            continue
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: construct_mapping reports it with its place
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key '{key}'",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def load_yaml(path: Path, shown_as: str | None = None) -> Any:
    """Parse `path`; bad syntax, a duplicate key or a code tag is a ProjectError with its line.

    So is a file nested too deep or whose aliases expand too far (see nexus.core.yamlshape).
    """
    shown = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"file not found: {shown}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read {shown}: {exc}") from exc
    try:
        check_shape(text, shown, _StrictLoader)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        raise ProjectError(_describe(exc, shown), _fix_for(exc)) from exc
    except yaml.YAMLError as exc:
        raise ProjectError(f"invalid YAML in {shown}: {exc}") from exc


def check_yaml_tree(folder: Path, root: Path) -> None:
    """Check the shape of every YAML file under `folder` (Hydra reads them itself)."""
    for path in sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")]):
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        try:
            check_shape(path.read_text(encoding="utf-8"), shown, _StrictLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # unreadable or malformed: Hydra's own reading says so, with its place


def _describe(exc: yaml.MarkedYAMLError, shown: str) -> str:
    opened = _unclosed(exc)
    if opened is not None:  # where the bracket opens, not where the parser gave up on it
        bracket, mark = opened
        found = exc.problem_mark
        later = f" (the parser gave up at line {found.line + 1}, column {found.column + 1})"
        return (
            f"invalid YAML at {shown}:{mark.line + 1}:{mark.column + 1}: "
            f"this '{bracket}' is not closed" + (later if found is not None else "")
        )
    mark = exc.problem_mark or exc.context_mark
    where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    if "could not determine a constructor for the tag" in problem:
        problem = f"tag {problem.split('tag', 1)[1].strip()} is not allowed (it would run code)"
    return f"invalid YAML at {where}: {problem}"


def _unclosed(exc: yaml.MarkedYAMLError) -> tuple[str, Any] | None:
    """The bracket a flow collection opened with, and where, when it is never closed."""
    context, mark = exc.context or "", exc.context_mark
    if mark is None or "while parsing a flow" not in context:
        return None
    bracket = "[" if "sequence" in context else "{"
    closer = "]" if bracket == "[" else "}"
    if closer in (exc.problem or ""):
        return bracket, mark
    return None


def _fix_for(exc: yaml.MarkedYAMLError) -> list[str]:
    problem = exc.problem or ""
    if "duplicate key" in problem:
        return ["each key may appear once in a mapping: remove or rename one of them"]
    if "constructor for the tag" in problem:
        return ["nexus reads plain YAML only: remove the '!!' tag"]
    if _unclosed(exc) is not None:
        return ["close it: [a, b] or {key: value}"]
    if exc.context and "flow" in exc.context:
        return ["a '[' or '{' is not closed"]
    return ["check the indentation and the brackets around that place"]
