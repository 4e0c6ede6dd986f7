"""A case's `handler_args`, checked against the handler before the first step runs.

An output's args go to the handler's `save`, an input's to its `load`. Keys and types come
from the method's signature: a named parameter with a type hint is validated (and converted)
by pydantic, an unknown key is an error with the closest names, unless the method takes
`**args`. A handler that hands its args on to a library (pandas, Pillow) may add its own
`check_args(args, saving) -> list[str]`: each string a problem, as 'key: what is wrong'.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, ValidationError, create_model

from nexus.core.registry import HandlerSpec
from nexus.errors import clipped, unknown_keys

__all__ = ["check_handler_args"]


def check_handler_args(
    spec: HandlerSpec, args: dict[str, Any], saving: bool
) -> tuple[dict[str, Any], list[str]]:
    """The args as the handler will get them (converted where typed), and their problems."""
    method = getattr(spec.instance, "save" if saving else "load")
    skip = 2 if saving else 1  # save(obj, path, ...), load(path, ...) come first
    params = list(inspect.signature(method).parameters.values())[skip:]
    named = {p.name: p for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    takes_more = any(p.kind is p.VAR_KEYWORD for p in params)
    problems = [] if takes_more else unknown_keys(args, list(named))
    converted, typed = _typed(method, {k: v for k, v in args.items() if k in named}, named)
    problems += typed
    checked = {**args, **converted}
    check = getattr(spec.instance, "check_args", None)
    if args and not problems and callable(check):
        problems += check(checked, saving)
    return checked, problems


def _typed(
    method: Callable[..., Any], given: dict[str, Any], named: dict[str, inspect.Parameter]
) -> tuple[dict[str, Any], list[str]]:
    """`given` validated against the type hints of `method`: converted values, problems."""
    try:
        hints = typing.get_type_hints(method)
    except Exception:  # a hint that does not resolve: leave the values to the handler
        return given, []
    fields: dict[str, Any] = {
        key: (hints[key], named[key].default if named[key].default is not named[key].empty else ...)
        for key in given
        if key in hints
    }
    if not fields:
        return given, []
    model = create_model(  # type: ignore[call-overload]
        "HandlerArgs", __config__=ConfigDict(arbitrary_types_allowed=True), **fields
    )
    try:
        checked = model.model_validate({k: given[k] for k in fields})
    except ValidationError as exc:
        return given, _by_key(exc, given)
    return {**given, **{k: getattr(checked, k) for k in fields}}, []


def _by_key(exc: ValidationError, given: dict[str, Any]) -> list[str]:
    """One line per arg: a union's members each add an error, said here as 'or ...'."""
    reasons: dict[str, list[str]] = {}
    for err in exc.errors():
        reasons.setdefault(str(err["loc"][0]), []).append(err["msg"])
    lines = []
    for key, found in reasons.items():
        first, *others = dict.fromkeys(found)
        said = "".join(f" or {o.removeprefix('Input should be ')}" for o in others)
        lines.append(f"{key} = {clipped(repr(given[key]), 60)}: {first}{said}")
    return lines
