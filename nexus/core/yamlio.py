"""Reading the YAML a user writes: safe (no code), strict (no duplicate keys), precise errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nexus.errors import ProjectError

__all__ = ["load_yaml"]


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
    """Parse `path`; bad syntax, a duplicate key or a code tag is a ProjectError with its line."""
    shown = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"file not found: {shown}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read {shown}: {exc}") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        raise ProjectError(_describe(exc, shown), _fix_for(exc)) from exc
    except yaml.YAMLError as exc:
        raise ProjectError(f"invalid YAML in {shown}: {exc}") from exc


def _describe(exc: yaml.MarkedYAMLError, shown: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    if "could not determine a constructor for the tag" in problem:
        problem = f"tag {problem.split('tag', 1)[1].strip()} is not allowed (it would run code)"
    return f"invalid YAML at {where}: {problem}"


def _fix_for(exc: yaml.MarkedYAMLError) -> list[str]:
    problem = exc.problem or ""
    if "duplicate key" in problem:
        return ["each key may appear once in a mapping: remove or rename one of them"]
    if "constructor for the tag" in problem:
        return ["nexus reads plain YAML only: remove the '!!' tag"]
    if exc.context and "flow" in exc.context:
        return ["a '[' or '{' is not closed"]
    return ["check the indentation and the brackets around that place"]
