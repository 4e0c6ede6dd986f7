"""The key record of a step and its key: what makes its output, canonical, versioned, hashed."""

from __future__ import annotations

import enum
import json
import sys
import typing
from pathlib import PurePath
from typing import Any

import xxhash

from nexus.core.registry import PluginSpec
from nexus.run.cache.hashing import HASH_NAME

__all__ = [
    "SCHEMA",
    "Uncacheable",
    "affects_output",
    "canonical",
    "canonical_params",
    "key_of",
    "python_version",
    "step_record",
]

SCHEMA = "nexus-cache/1"  # change it when the recipe changes: old records then miss


class Uncacheable(Exception):
    """A step whose output nexus cannot key safely; it always runs."""


def key_of(record: dict[str, Any]) -> str:
    """The key: xxh3_128 of the record's canonical JSON."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return xxhash.xxh3_128_hexdigest(text.encode("utf-8"))


def python_version() -> str:
    """The interpreter's minor version, `3.11`: a new minor may change numerics."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def affects_output(spec: PluginSpec, field: str) -> bool:
    """False for a parameter its field marks with `json_schema_extra={"affects_output": False}`."""
    extra = spec.parameters[field].json_schema_extra
    return not (isinstance(extra, dict) and extra.get("affects_output") is False)


def canonical_params(spec: PluginSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The step's parameters (defaults filled in) as canonical JSON values, by name.

    Raises:
        Uncacheable: a value of a type nexus cannot write canonically.
    """
    values = {}
    for name, info in spec.parameters.items():
        if not affects_output(spec, name):
            continue
        value = params[name] if name in params else info.get_default(call_default_factory=True)
        if _wants_float(info.annotation) and type(value) is int:
            value = float(value)  # pydantic keeps 5 an int in a float field: 5 and 5.0 agree
        try:
            values[name] = canonical(value)
        except Uncacheable as exc:
            raise Uncacheable(f"parameter '{name}' is {exc}") from None
    return values


def _wants_float(annotation: Any) -> bool:
    """A field typed `float` or `float | None` (not one that also takes an int)."""
    if annotation is float:
        return True
    args = set(typing.get_args(annotation)) if typing.get_origin(annotation) else set()
    return float in args and int not in args


def canonical(value: Any) -> Any:
    """A JSON value that stands for `value` exactly; floats by repr, so 0.1 stays 0.1."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, PurePath):
        return {"path": value.as_posix()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Uncacheable("a mapping with keys that are not strings")
        return {k: canonical(value[k]) for k in sorted(value)}
    if hasattr(value, "model_dump") and hasattr(type(value), "model_fields"):
        return {"model": type(value).__name__, "fields": canonical(value.model_dump())}
    raise Uncacheable(f"a {type(value).__name__}, which nexus cannot compare between runs")


def step_record(
    spec: PluginSpec,
    params: dict[str, Any],
    code: dict[str, str],
    packages: dict[str, str],
    inputs: dict[str, Any],
    sink: dict[str, Any] | None,
) -> dict[str, Any]:
    """The key record: everything that makes the step's output, nothing else."""
    return {
        "schema": SCHEMA,
        "hash": HASH_NAME,
        "plugin": spec.name,
        "code": code,
        "packages": packages,
        "python": python_version(),
        "params": canonical_params(spec, params),
        "inputs": inputs,
        "sink": sink,
    }
