"""The arguments a handler's `load` and `save` take, for REFERENCE.md.

Each is read from the method's signature (its name, its default) and its docstring's `Args:`
section (what it does), so a handler documents its arguments where it defines them:

    def save(self, obj, path, crf: int = 20, **args):
        \"\"\"Args:
            crf: quality, 0-51; lower is better.
            **args: passed to the encoder.
        \"\"\"
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nexus.core.describe import plain_repr

__all__ = ["Argument", "arguments"]

_ENTRY = re.compile(r"^(\*{0,2}\w+)(?:\s*\([^)]*\))?:\s*(.*)$")  # `name:` or `name (type):`


@dataclass(frozen=True)
class Argument:
    """One argument: `crf`, its default (`20`; empty when required or `**`), what it does."""

    name: str
    default: str
    description: str


def arguments(method: Callable[..., Any], skipped: int) -> list[Argument]:
    """The arguments of a bound `method` after its first `skipped` (`obj`, `path`)."""
    documented = _documented(inspect.getdoc(method) or "")
    found = []
    for param in list(inspect.signature(method).parameters.values())[skipped:]:
        star = {param.VAR_POSITIONAL: "*", param.VAR_KEYWORD: "**"}.get(param.kind, "")
        name = star + param.name
        empty = param.default is param.empty
        found.append(
            Argument(
                name,
                "" if empty else plain_repr(param.default),
                documented.get(name) or documented.get(param.name, ""),
            )
        )
    return found


def _documented(doc: str) -> dict[str, str]:
    """`name -> text` from a Google-style `Args:` section; continuation lines joined."""
    found: dict[str, str] = {}
    lines = doc.splitlines()
    if "Args:" not in (line.strip() for line in lines):
        return found
    start = [line.strip() for line in lines].index("Args:") + 1
    current: str | None = None
    indent: int | None = None
    for line in lines[start:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent:
            break  # the next section
        match = _ENTRY.match(line.strip())
        if depth == indent and match:
            current = match.group(1)
            found[current] = match.group(2).strip()
        elif current is not None:
            found[current] = f"{found[current]} {line.strip()}".strip()
    return found
