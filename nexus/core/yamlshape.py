"""Limits on the shape of user YAML, checked on its events before any object is built.

Two kinds of file would stall or crash every command that reads them: aliases that refer to
aliases (nine levels of nine make 387 million values from 90 lines), and collections nested
thousands deep (PyYAML, OmegaConf and Hydra all recurse). PyYAML's parser is not recursive,
so its event stream measures both cheaply, in one pass, before the composer recurses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from nexus.errors import ProjectError

__all__ = ["MAX_ALIAS_VALUES", "MAX_DEPTH", "MAX_DIGITS", "check_shape"]

#: Collections nested deeper than this are refused; OmegaConf itself fails at about 150.
MAX_DEPTH = 64
#: Python converts at most this many digits of text to an int (sys.get_int_max_str_digits).
MAX_DIGITS = 4300
#: Values that aliases may add to a file (each `*name` counts every value its anchor holds).
MAX_ALIAS_VALUES = 100_000


@dataclass
class _Open:
    """A collection being read: its anchor and the values in it so far."""

    anchor: str | None
    values: int = 1


@dataclass
class _Shape:
    """What the events of one document showed so far."""

    shown: str
    stack: list[_Open] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # anchor -> values it stands for
    added: int = 0  # values that aliases added

    def add(self, values: int) -> None:
        if self.stack:
            self.stack[-1].values += values

    def open(self, event: Any) -> None:
        self.stack.append(_Open(event.anchor))
        if len(self.stack) > MAX_DEPTH:
            raise ProjectError(
                f"{self.shown}:{event.start_mark.line + 1}: nested more than {MAX_DEPTH} "
                "levels deep",
                ["a config is a few levels of keys and lists: flatten that value"],
            )

    def close(self) -> None:
        done = self.stack.pop()
        if done.anchor is not None:
            self.sizes[done.anchor] = done.values
        self.add(done.values)

    def alias(self, event: Any) -> None:
        name = event.anchor
        line = event.start_mark.line + 1
        if any(o.anchor == name for o in self.stack):
            raise ProjectError(
                f"{self.shown}:{line}: alias '*{name}' refers to the collection it is in",
                ["a value cannot contain itself: copy the values instead"],
            )
        size = self.sizes.get(name, 1)  # an anchored scalar, or unknown: the parser reports it
        self.added += size
        self.add(size)
        if self.added > MAX_ALIAS_VALUES:
            raise ProjectError(
                f"{self.shown}:{line}: its aliases expand to more than "
                f"{MAX_ALIAS_VALUES:,} values (at '*{name}')",
                [
                    "aliases that refer to aliases multiply: nexus refuses such a file, "
                    "as it would stall every command",
                    "write the values out, or use fewer levels of aliases",
                ],
            )


def check_shape(text: str, shown: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> None:
    """Raise a ProjectError naming `shown` when `text` nests too deep or expands too much.

    Syntax errors are left to the parse that follows (a yaml.YAMLError from here too).
    """
    shape = _Shape(shown)
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            shape.open(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            shape.close()
        elif isinstance(event, yaml.AliasEvent):
            shape.alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            _check_number(event, shown)
            if event.anchor is not None:
                shape.sizes[event.anchor] = 1
            shape.add(1)
        elif isinstance(event, yaml.DocumentStartEvent):
            shape.sizes.clear()  # anchors are per document


def _check_number(event: Any, shown: str) -> None:
    """A plain integer longer than Python converts from text (4,300 digits) is refused."""
    if event.style is not None or len(event.value) <= MAX_DIGITS:
        return
    digits = event.value.lstrip("+-").replace("_", "")
    if digits.isdigit() and len(digits) > MAX_DIGITS:
        raise ProjectError(
            f"{shown}:{event.start_mark.line + 1}: a number of {len(digits):,} digits "
            f"(a value takes at most {MAX_DIGITS:,})",
            ["in quotes it is text"],
        )
