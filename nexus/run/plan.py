"""The plan of a run: its steps in order, and where every logical name is read and written.

Everything here is checked before any step runs, and all problems are reported together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nexus.core.hub import DataEntry, inside
from nexus.core.markers import DataSink, DataSource
from nexus.core.project import Project
from nexus.core.registry import PluginSpec, Registry
from nexus.errors import PlanError, did_you_mean, problems
from nexus.run.rundirs import earlier_runs, read_manifest

__all__ = ["Plan", "Step", "build_plan"]


@dataclass(frozen=True)
class Step:
    """One step: its plugin and its validated parameters."""

    name: str
    spec: PluginSpec
    params: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """What a run does: which steps, and the data entries the hub serves."""

    case: str
    steps: list[Step]
    entries: dict[str, DataEntry]
    inputs_from: Path | None = None

    @property
    def outputs(self) -> list[str]:
        """The logical names the steps of this plan write."""
        return [s.spec.produces for s in self.steps if s.spec.produces]


def build_plan(
    cfg: DictConfig,
    registry: Registry,
    project: Project,
    params: dict[str, dict[str, Any]],
    run_dir: Path,
) -> Plan:
    """Check the steps, names, handlers and inputs of the case, and locate every name."""
    case = cfg.case.name
    io_mapping: dict[str, Any] = OmegaConf.to_container(cfg.case.io_mapping, resolve=True)  # type: ignore[assignment]
    steps = [
        Step(n, registry.plugin_named(n, f"in case '{case}'"), params.get(n, {}))
        for n in cfg.case.steps
    ]
    found: list[str] = []
    producers = _producers(steps, found)
    _check_order(steps, producers, found)
    _check_names(steps, io_mapping, found, f"cases/{case}/case.yaml")
    selected = _select(steps, cfg.get("only"), case)
    inputs_from = _inputs_source(cfg, project, case, selected, producers, io_mapping, found)
    entries = _entries(io_mapping, producers, registry, project, cfg, run_dir, inputs_from, found)
    _check_inputs(selected, entries, producers, found)
    if found:
        hint = (
            [f"run the whole case first: python -m nexus case={case}"]
            if any("no completed output" in line for line in found)
            else []
        )
        raise PlanError(
            f"{problems(len(found), 'problem')} in the steps of case '{case}'", [*found, *hint]
        )
    return Plan(case=case, steps=selected, entries=entries, inputs_from=inputs_from)


def _producers(steps: list[Step], found: list[str]) -> dict[str, str]:
    producers: dict[str, str] = {}
    for step in steps:
        name = step.spec.produces
        if name is None:
            continue
        if name in producers:
            found.append(
                f"'{name}' is produced by two steps: '{producers[name]}' and "
                f"'{step.name}'; give one of them another sink name"
            )
        producers.setdefault(name, step.name)
    return producers


def _check_order(steps: list[Step], producers: dict[str, str], found: list[str]) -> None:
    position = {s.name: i for i, s in enumerate(steps)}
    for i, step in enumerate(steps):
        for name in step.spec.consumes:
            producer = producers.get(name)
            if producer is not None and position[producer] >= i and producer != step.name:
                found.append(
                    f"step '{step.name}' reads '{name}', which '{producer}' writes, "
                    f"but is listed before it: list '{producer}' first"
                )
            elif producer == step.name:
                found.append(f"step '{step.name}' reads '{name}', which it writes itself")


def _check_names(
    steps: list[Step], io_mapping: dict[str, Any], found: list[str], shown: str
) -> None:
    for step in steps:
        markers: list[tuple[str, DataSource | DataSink]] = [
            *step.spec.sources.items(),
            *([step.spec.sink] if step.spec.sink else []),
        ]
        for field_name, marker in markers:
            if marker.name in io_mapping or _optional(step.spec, field_name):
                continue
            hint = did_you_mean(marker.name, list(io_mapping))
            found.append(
                f"'{marker.name}' (field '{field_name}' of step '{step.name}') is not in "
                f"the io_mapping of {shown}" + (f"; {hint}" if hint else "; add it there")
            )


def _optional(spec: PluginSpec, field_name: str) -> bool:
    """A source with a default may be left out of the io_mapping; a sink may not: it is saved."""
    info = spec.config_model.model_fields[field_name] if spec.config_model else None
    is_sink = spec.sink is not None and spec.sink[0] == field_name
    return info is not None and not info.is_required() and not is_sink


def _select(steps: list[Step], only: str | None, case: str) -> list[Step]:
    if only is None:
        return steps
    names = [s.name for s in steps]
    if only not in names:
        raise PlanError(
            f"unknown step in only=: '{only}'",
            [did_you_mean(only, names), f"steps of case '{case}': {', '.join(names)}"],
        )
    return [s for s in steps if s.name == only]


def _inputs_source(
    cfg: DictConfig,
    project: Project,
    case: str,
    selected: list[Step],
    producers: dict[str, str],
    io_mapping: dict[str, Any],
    found: list[str],
) -> Path | None:
    """For `only=`: the earlier run that holds the produced inputs of the selected steps."""
    wanted = {
        n: producers[n]
        for s in selected
        for n in s.spec.consumes
        if n in producers and producers[n] not in {x.name for x in selected}
    }
    if not wanted:
        return None
    explicit = cfg.get("inputs_from")
    candidates = [Path(explicit)] if explicit else earlier_runs(Path(cfg.paths.outputs) / case)
    for run_dir in candidates:
        if _holds(run_dir, wanted, io_mapping):
            return run_dir.resolve()
    for name, producer in wanted.items():
        source = f"in {explicit}" if explicit else f"in any earlier run of case '{case}'"
        found.append(
            f"input '{name}' of step '{selected[0].name}' is produced by step "
            f"'{producer}', and no completed output of it was found {source}"
        )
    return None


def _holds(run_dir: Path, wanted: dict[str, str], io_mapping: dict[str, Any]) -> bool:
    manifest = read_manifest(run_dir) or {}
    done = {
        out.get("name")
        for step in manifest.get("steps", [])
        if step.get("status") == "completed"
        for out in step.get("outputs", [])
    }
    return all(n in done and (run_dir / io_mapping[n]["path"]).exists() for n in wanted)


def _entries(
    io_mapping: dict[str, Any],
    producers: dict[str, str],
    registry: Registry,
    project: Project,
    cfg: DictConfig,
    run_dir: Path,
    inputs_from: Path | None,
    found: list[str],
) -> dict[str, DataEntry]:
    shown = f"cases/{cfg.case.name}/case.yaml"
    case_dir = project.case_dir(cfg.case.name)
    only = cfg.get("only")
    entries = {}
    for name, where in io_mapping.items():
        spec = registry.handler_for(where.get("handler"), where["path"])
        if spec is None:
            found.append(_handler_problem(name, where, registry, shown))
            continue
        producer = producers.get(name)
        path = Path(where["path"])
        if (
            producer is None
            and not path.is_absolute()
            and not inside(case_dir / path, project.root)
        ):
            found.append(
                f"input '{name}' has path '{where['path']}', which leaves the project (in "
                f"{shown}); give data outside the project as an absolute path"
            )
            continue
        if producer is None:
            location = path if path.is_absolute() else case_dir / path
        elif producer != only and only is not None and inputs_from is not None:
            location, producer = inputs_from / path, None  # an earlier run's output, read only
        elif _escapes(path):
            found.append(
                f"output '{name}' has path '{where['path']}', which leaves the run "
                f"directory (in {shown}); give a relative path inside it"
            )
            continue
        else:
            location = run_dir / path
        entries[name] = DataEntry(
            name=name,
            path=location,
            handler=spec,
            args=dict(where.get("handler_args") or {}),
            producer=producer,
            declared=f"{shown}, io_mapping.{name}",
        )
    return entries


def _escapes(path: Path) -> bool:
    normal = os.path.normpath(path)
    return path.is_absolute() or normal == ".." or normal.startswith(".." + os.sep)


def _handler_problem(name: str, where: dict[str, Any], registry: Registry, shown: str) -> str:
    known = sorted(registry.handlers)
    if where.get("handler"):
        hint = did_you_mean(where["handler"], known)
        return (
            f"unknown handler '{where['handler']}' for '{name}' (in {shown})"
            + (f"; {hint}" if hint else "")
            + f"; known handlers: {', '.join(known)}"
        )
    return (
        f"no handler for '{name}': none reads files like '{where['path']}' (in {shown}); "
        f"name one with handler: ({', '.join(known)})"
    )


def _check_inputs(
    steps: list[Step], entries: dict[str, DataEntry], producers: dict[str, str], found: list[str]
) -> None:
    for step in steps:
        for name in step.spec.consumes:
            entry = entries.get(name)
            if entry is None or entry.producer is not None or entry.path.exists():
                continue
            found.append(
                f"input '{name}' of step '{step.name}' not found: {entry.path} "
                f"(mapped in {entry.declared})"
            )
