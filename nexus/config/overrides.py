"""Command-line overrides read as text (`key=value`, `+key=value`, `++key=value`, `~key`), and
the ones Hydra's parser cannot take, refused before it sees them.

Plain string work, without Hydra or OmegaConf, so the command line can read them before either
is imported. Hydra parses an override with a recursive grammar and turns digits into a Python
int: a value nested thousands deep overflows the stack, and a number of more than 4,300 digits
exceeds Python's limit on converting text to int. Both would end in "unexpected error".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from nexus.core.yamlshape import MAX_DEPTH, MAX_DIGITS
from nexus.errors import ConfigError, clipped, problems

__all__ = ["Override", "check_overrides", "parse_override"]


class Override(NamedTuple):
    """An override's key (without `+`, `++` or `~`) and its value (None when it has no `=`)."""

    key: str
    value: str | None


def parse_override(text: object) -> Override:
    """`pipeline.x` and `1` of `pipeline.x=1`, `+pipeline.x=1` or `++pipeline.x=1`.

    `~pipeline.x` (delete) has no value; the value is the text after the first `=`, as is.
    """
    key, equals, value = str(text).partition("=")
    return Override(key.lstrip("+~").strip(), value if equals else None)


def check_overrides(args: Iterable[str]) -> None:
    """Raise a ConfigError naming each override whose number or nesting Hydra cannot parse."""
    found = []
    for arg in args:
        key, value = parse_override(arg)
        if value is None or arg.startswith("-"):
            continue
        digits, depth = _measure(value)
        shown = f"{key} = {clipped(value, 60)}"
        if digits > MAX_DIGITS:
            found.append(
                f"{shown}: a number of {digits:,} digits (a parameter takes at most "
                f"{MAX_DIGITS:,}); in quotes it is text"
            )
        elif depth > MAX_DEPTH:
            found.append(f"{shown}: nested more than {MAX_DEPTH} levels deep")
    if found:
        raise ConfigError(f"{problems(len(found), 'override')} that no parameter can hold", found)


def _measure(value: str) -> tuple[int, int]:
    """The longest run of digits and the deepest nesting of [] and {} in `value`, unquoted."""
    depth = deepest = digits = run = 0
    quote = ""
    for char in value:
        if quote:
            quote = "" if char == quote else quote
            continue
        run = run + 1 if char.isdigit() else 0
        digits = max(digits, run)
        if char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return digits, deepest
