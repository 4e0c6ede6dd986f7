"""For `only=STEP`: the earlier run whose outputs were made with the current parameters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nexus.run.cache.explain import differences
from nexus.run.cache.key import Uncacheable, canonical_params
from nexus.run.cache.store import Index

__all__ = ["choose_inputs_run"]

log = logging.getLogger("nexus.run.cache")


def choose_inputs_run(
    outputs: Path,
    candidates: list[Path],
    holds: Callable[[Path], bool],
    producers: dict[str, list[Any]],
    params: dict[str, dict[str, Any]],
) -> tuple[Path | None, dict[str, dict[str, Any]]]:
    """The newest run that `holds` the inputs and whose records match the current parameters.

    Else the newest run that holds them, with a warning naming the parameters that differ.
    `producers` maps each wanted input to the steps (with `.name` and `.spec`) that make it:
    its producer and every step upstream of it, whose parameters made it as much as its own.
    Returns the run and, per input, {"run": its directory, "differs": [...]} (for MLflow).
    """
    index = Index(outputs)
    wanted = {
        name: [(step.name, _current(step, params)) for step in chain]
        for name, chain in producers.items()
    }
    holding = [run for run in candidates if holds(run)]
    for run in holding:
        found = _all_differences(index, run, wanted)
        if not any(found.values()):
            return run.resolve(), _origins(run, found)
    if not holding:
        return None, {}
    run = holding[0]
    found = _all_differences(index, run, wanted)
    for name, differs in found.items():
        log.warning(
            "only=: no earlier run made '%s' with the current parameters; taking it from %s, "
            "where %s",
            name,
            run,
            "; ".join(differs),
        )
    return run.resolve(), _origins(run, found)


def _current(step: Any, params: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return canonical_params(step.spec, params.get(step.name, {}))
    except Uncacheable:
        return None


def _all_differences(
    index: Index, run: Path, wanted: dict[str, list[tuple[str, dict[str, Any] | None]]]
) -> dict[str, list[str]]:
    """Per input, what differs in `run` between the records of the steps that made it and now."""
    return {
        name: [text for step, current in chain for text in _differs(index, run, step, current)]
        for name, chain in wanted.items()
    }


def _differs(index: Index, run: Path, producer: str, current: dict[str, Any] | None) -> list[str]:
    record = index.of_run(producer, run)
    if record is None:
        return [f"{producer} left no record of the parameters that made it"]
    if current is None:
        return [f"{producer}'s parameters cannot be compared"]
    made = (record.get("record") or {}).get("params") or {}
    if made == current:
        return []
    changed = differences({"params": made}, {"params": current})
    return [f"{producer}: {text}" for text in changed]


def _origins(run: Path, found: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    return {
        name: {"run": str(run.resolve()), "differs": differs} for name, differs in found.items()
    }
