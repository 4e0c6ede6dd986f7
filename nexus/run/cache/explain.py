"""Why a step runs: its key record against the newest earlier one of the same step."""

from __future__ import annotations

from typing import Any

__all__ = ["differences", "shown_value"]


def shown_value(value: Any) -> str:
    """A canonical parameter value as the user wrote it: 0.2, not {'float': '0.2'}."""
    if isinstance(value, dict) and set(value) == {"float"}:
        return str(value["float"])
    if isinstance(value, dict) and set(value) == {"path"}:
        return str(value["path"])
    if isinstance(value, list):
        return "[" + ", ".join(shown_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown_value(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value)


def differences(
    old: dict[str, Any] | None, new: dict[str, Any], producers: dict[str, str] | None = None
) -> list[str]:
    """What differs between two key records, one short phrase each.

    `producers` names, for an input whose new hash is not known yet, the step that will make it.
    """
    if old is None:
        return ["no earlier result of this step"]
    found: list[str] = []
    for part in ("schema", "hash"):
        if old.get(part) != new.get(part):
            found.append(f"the cache's {part} changed ({old.get(part)} -> {new.get(part)})")
    if old.get("python") != new.get("python"):
        found.append(f"Python {old.get('python')} -> {new.get('python')}")
    if old.get("plugin") != new.get("plugin"):
        found.append(f"plugin {old.get('plugin')} -> {new.get('plugin')}")
    found += _params(old.get("params") or {}, new.get("params") or {})
    found += _mapping("", old.get("code") or {}, new.get("code") or {}, "changed")
    found += _packages(old.get("packages") or {}, new.get("packages") or {})
    found += _inputs(old.get("inputs") or {}, new.get("inputs") or {}, producers or {})
    if old.get("sink") != new.get("sink"):
        found.append("the output's handler or handler_args changed")
    return found or ["an earlier result with this key was not usable"]


def _params(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    missing = object()
    found = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name, missing), new.get(name, missing)
        if before == after:
            continue
        shown_before = "(unset)" if before is missing else shown_value(before)
        shown_after = "(unset)" if after is missing else shown_value(after)
        found.append(f"{name} {shown_before} -> {shown_after}")
    return found


def _mapping(prefix: str, old: dict[str, Any], new: dict[str, Any], verb: str) -> list[str]:
    found = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            found.append(f"{prefix}{name} is new")
        elif name not in new:
            found.append(f"{prefix}{name} is no longer used")
        elif old[name] != new[name]:
            found.append(f"{prefix}{name} {verb}")
    return found


def _packages(old: dict[str, str], new: dict[str, str]) -> list[str]:
    found = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            found.append(f"{name} {old.get(name, '(none)')} -> {new.get(name, '(none)')}")
    return found


def _inputs(old: dict[str, Any], new: dict[str, Any], producers: dict[str, str]) -> list[str]:
    found = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name in producers:
            found.append(f"{name} changes because {producers[name]} runs")
        elif before is None or after is None:
            found.append(f"input {name} is {'new' if before is None else 'no longer read'}")
        elif before.get("hash") != after.get("hash"):
            found.append(f"input {name} changed")
        else:
            found.append(f"how {name} is read changed (handler or handler_args)")
    return found
