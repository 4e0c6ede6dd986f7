"""Command-line overrides read as text: `key=value`, `+key=value`, `++key=value`, `~key`.

Plain string work, without Hydra or OmegaConf, so the command line can read them before
either is imported.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Override", "parse_override"]


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
