"""Short, deterministic text for types, defaults, pydantic constraints and signatures."""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Callable
from pathlib import PurePath
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["constraints", "default", "signature", "type_name"]

#: pydantic and annotated-types constraint attributes, with how each reads.
CONSTRAINTS: tuple[tuple[str, str], ...] = (
    ("gt", "> {}"),
    ("ge", ">= {}"),
    ("lt", "< {}"),
    ("le", "<= {}"),
    ("multiple_of", "multiple of {}"),
    ("min_length", "min length {}"),
    ("max_length", "max length {}"),
    ("pattern", "matches {!r}"),
    ("max_digits", "max digits {}"),
    ("decimal_places", "decimal places {}"),
    ("allow_inf_nan", "allow inf/nan {}"),
    ("strict", "strict"),
)


def type_name(annotation: Any) -> str:
    """`int | None`, `list[str]`, `Literal['a', 'b']`, `DataFrame`: no module prefixes."""
    if annotation is None or annotation is type(None):
        return "None"
    if annotation is Ellipsis:
        return "..."
    if isinstance(annotation, list):  # the arguments of a Callable
        return "[" + ", ".join(type_name(a) for a in annotation) + "]"
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(type_name(a) for a in args)
    if origin is Literal:
        return "Literal[" + ", ".join(repr(a) for a in args) + "]"
    if origin is not None:
        inner = ", ".join(type_name(a) for a in args)
        return f"{_bare_name(origin)}[{inner}]" if args else _bare_name(origin)
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def default(info: FieldInfo) -> str:
    """The field's default as code, or `required`."""
    if info.is_required():
        return "required"
    return plain_repr(info.get_default(call_default_factory=True))


def plain_repr(value: Any) -> str:
    """A repr that is the same on every machine (paths as strings, enums by value)."""
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, PurePath):
        return repr(value.as_posix())
    if isinstance(value, BaseModel):
        return repr(value.model_dump(mode="json"))
    return repr(value)


def constraints(info: FieldInfo) -> list[str]:
    """`>= 0`, `<= 2`, `min length 1`, ... from the field's pydantic metadata."""
    found = []
    for item in info.metadata:
        for attr, text in CONSTRAINTS:
            value = getattr(item, attr, None)
            if value is None or value is False:
                continue
            found.append(text.format(value))
    return found


def signature(func: Callable[..., Any], skip_self: bool = True) -> str:
    """`(obj, path, fps=None, **args)`: the parameters with their defaults, no annotations."""
    params = list(inspect.signature(func).parameters.values())
    if skip_self and params and params[0].name == "self":
        params = params[1:]
    plain = [
        p.replace(
            annotation=inspect.Parameter.empty,
            default=p.default if p.default is inspect.Parameter.empty else _Shown(p.default),
        )
        for p in params
    ]
    return str(inspect.Signature(plain))


class _Shown:
    """A default that prints as `plain_repr` shows it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return plain_repr(self.value)


def _bare_name(obj: Any) -> str:
    return str(getattr(obj, "__name__", obj)).replace("typing.", "")
