"""Where an output the case does not map is saved: the handler its sink's type implies."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, get_args, get_origin

__all__ = ["IMPLIED", "implied_location"]

#: A sink's type, by package and class name (so pandas is never imported here) -> handler, suffix.
IMPLIED: tuple[tuple[str, str, str], ...] = (
    ("pandas.DataFrame", "parquet", ".parquet"),
    ("nexus.FrameSequence", "frames", ""),
    ("nexus.Video", "mp4", ".mp4"),
    ("builtins.dict", "json", ".json"),
    ("builtins.list", "json", ".json"),
    ("builtins.str", "json", ".json"),
    ("builtins.float", "json", ".json"),
    ("builtins.int", "json", ".json"),  # a bool is an int
)


def implied_location(
    annotation: Any, name: str, handlers: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The io_mapping entry `{path, handler}` for an unmapped output typed `annotation`.

    The path is the logical name itself (plus the handler's usual suffix), relative to the
    run directory; None when no registered handler fits the type.
    """
    for cls in _classes(annotation):
        for base in cls.__mro__:
            for qualname, handler, suffix in IMPLIED:
                package = base.__module__.split(".")[0]
                if f"{package}.{base.__qualname__}" == qualname and handler in handlers:
                    return {"path": name + suffix, "handler": handler, "handler_args": {}}
    return None


def _classes(annotation: Any) -> Iterator[type]:
    """The classes an annotation allows: `X | None`, `Annotated[X, ...]`, `dict[str, Any]`."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _classes(get_args(annotation)[0])
    elif origin is typing.Union or origin is types.UnionType:
        for arg in get_args(annotation):
            yield from _classes(arg)
    elif isinstance(origin, type):
        yield origin
    elif isinstance(annotation, type) and annotation is not type(None):
        yield annotation
