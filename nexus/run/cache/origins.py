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
    producers: dict[str, Any],
    params: dict[str, dict[str, Any]],
) -> tuple[Path | None, dict[str, dict[str, Any]]]:
    """The newest run that `holds` the inputs and whose records match the current parameters.

    Else the newest run that holds them, with a warning naming the parameters that differ.
    `producers` maps each wanted input to the step (with `.name` and `.spec`) that makes it.
    Returns the run and, per input, {"run": its directory, "differs": [...]} (for MLflow).
    """
    index = Index(outputs)
    wanted = {}
    for name, step in producers.items():
        try:
            wanted[name] = (step.name, canonical_params(step.spec, params.get(step.name, {})))
        except Uncacheable:
            wanted[name] = (step.name, None)
    holding = [run for run in candidates if holds(run)]
    for run in holding:
        found = {name: _differs(index, run, *wanted[name]) for name in wanted}
        if not any(found.values()):
            return run.resolve(), _origins(run, found)
    if not holding:
        return None, {}
    run = holding[0]
    found = {name: _differs(index, run, *wanted[name]) for name in wanted}
    for name, differs in found.items():
        log.warning(
            "only=: no earlier run made '%s' with the current parameters; taking it from %s, "
            "where %s",
            name,
            run,
            "; ".join(differs),
        )
    return run.resolve(), _origins(run, found)


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
