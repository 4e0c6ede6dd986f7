"""DataSource and DataSink: markers that declare a config field as a step's input or output."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from pydantic.fields import FieldInfo

__all__ = ["DataSink", "DataSource", "markers_of"]


@dataclass(frozen=True)
class DataSource:
    """Marks a config field as an input, loaded from the case's logical name `name`.

    `columns` names the columns a table input must have; nexus checks them when it loads
    the input, and a missing one is an error naming the columns expected and found.
    """

    name: str
    description: str = ""
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataSink:
    """Marks a config field as the output: the step's return value is saved under `name`."""

    name: str
    description: str = ""


Marker = DataSource | DataSink


def markers_of(field: FieldInfo) -> list[Marker]:
    """The markers on a pydantic field, also inside `Optional[Annotated[...]]` or `X | None`."""
    found = [m for m in field.metadata if isinstance(m, DataSource | DataSink)]
    return found + _markers_in_annotation(field.annotation)


def _markers_in_annotation(annotation: Any) -> list[Marker]:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        own = [m for m in metadata if isinstance(m, DataSource | DataSink)]
        return own + _markers_in_annotation(inner)
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _markers_in_annotation(arg)]
    return []
