"""The plan of a run: its steps in order, and where every logical name is read and written.

Everything here is checked before any step runs, and all problems are reported together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nexus.config.cases import step_key
from nexus.config.handler_args import check_handler_args
from nexus.config.wiring import Step, check_wiring, wired_steps
from nexus.core.hub import DataEntry, inside
from nexus.core.project import Project
from nexus.core.registry import HandlerSpec, Registry
from nexus.errors import DataError, PlanError, did_you_mean, problems
from nexus.handlers.recording import missing_packages
from nexus.run.cache.origins import choose_inputs_run
from nexus.run.manifest import read_manifest
from nexus.run.rundirs import earlier_runs

__all__ = ["Plan", "Step", "build_plan"]


@dataclass(frozen=True)
class Plan:
    """What a run does: which steps, and the data entries the hub serves.

    `skipped` names the steps switched off (`enabled: false`), which do not run.
    """

    case: str
    steps: list[Step]
    entries: dict[str, DataEntry]
    inputs_from: Path | None = None
    skipped: list[str] = field(default_factory=list)
    inputs_origin: dict[str, Any] = field(default_factory=dict)  # only=: per input, run and why

    @property
    def outputs(self) -> list[str]:
        """The logical names the steps of this plan write."""
        return [s.produces for s in self.steps if s.produces]


def build_plan(
    cfg: DictConfig,
    registry: Registry,
    project: Project,
    params: dict[str, dict[str, Any]],
    run_dir: Path,
) -> Plan:
    """Check the steps, their wiring, handlers and inputs, and locate every name."""
    case = cfg.case.name
    shown = f"cases/{case}/case.yaml"
    io_mapping: dict[str, Any] = OmegaConf.to_container(cfg.case.io_mapping, resolve=True)  # type: ignore[assignment]
    steps = [
        Step(
            w.name,
            registry.plugin_named(w.plugin, f"in case '{case}'"),
            params.get(w.name, {}),
            w.inputs,
            w.outputs,
            w.enabled,
        )
        for w in wired_steps(cfg)
    ]
    found, implied = check_wiring(steps, io_mapping, registry, shown)
    producers: dict[str, str] = {}
    for step in steps:
        if step.produces:
            producers.setdefault(step.produces, step.name)
    selected = _select(steps, cfg.get("only"), case)
    located = {**io_mapping, **implied}
    inputs_from, origin = _inputs_source(cfg, steps, selected, params, producers, located, found)
    entries = _entries(io_mapping, implied, producers, registry, project, cfg, run_dir, found)
    names = {s.name for s in selected}
    if inputs_from is not None:  # what the steps that do not run wrote, from an earlier run
        entries.update(
            {
                n: replace(e, path=inputs_from / located[n]["path"], producer=None)
                for n, e in entries.items()
                if e.producer is not None and e.producer not in names
            }
        )
    _check_inputs(selected, entries, found)
    if found:
        raise PlanError(
            f"{problems(len(found), 'problem')} in the steps of case '{case}'",
            [*found, *_hints(found, steps, case)],
        )
    skipped = [s.name for s in steps if not s.enabled and s.name not in names]
    return Plan(case, selected, entries, inputs_from, skipped, origin)


def _hints(found: list[str], steps: list[Step], case: str) -> list[str]:
    if not any("no completed output" in line for line in found):
        return []
    off = [s for s in steps if not s.enabled and f"'{s.name}', which is switched off" in str(found)]
    switch_on = " ".join(f"steps.{step_key(s.name)}.enabled=true" for s in off)
    return [
        f"run the whole case first: python -m nexus case={case}"
        + (f" {switch_on}" if switch_on else "")
    ]


def _select(steps: list[Step], only: str | None, case: str) -> list[Step]:
    """The steps that run: the one `only=` names, else every step switched on."""
    if only is None:
        return [s for s in steps if s.enabled]
    names = [s.name for s in steps]
    if only not in names:
        raise PlanError(
            f"unknown step in only=: '{only}'",
            [did_you_mean(only, names), f"steps of case '{case}': {', '.join(names)}"],
        )
    chosen = next(s for s in steps if s.name == only)
    if not chosen.enabled:
        raise PlanError(
            f"only= names step '{only}', which is switched off (enabled: false)",
            [
                f'switch it on: python -m nexus case={case} only="{only}" '
                f"steps.{step_key(only)}.enabled=true"
            ],
        )
    return [chosen]


def _inputs_source(
    cfg: DictConfig,
    steps: list[Step],
    selected: list[Step],
    params: dict[str, dict[str, Any]],
    producers: dict[str, str],
    io_mapping: dict[str, Any],
    found: list[str],
) -> tuple[Path | None, dict[str, Any]]:
    """The earlier run that holds what the selected steps read from steps that do not run.

    The newest whose records say it was made with the current parameters, else the newest.
    """
    names = {s.name for s in selected}
    wanted = {
        n: (s.name, producers[n])
        for s in selected
        for n in s.consumes
        if n in producers and producers[n] not in names
    }
    if not wanted:
        return None, {}
    case = cfg.case.name
    explicit = cfg.get("inputs_from")
    outputs = Path(cfg.paths.outputs)
    if explicit:
        root = Path(cfg.paths.root)
        explicit = root / Path(explicit).expanduser()  # relative: to the root
        if not explicit.is_dir():
            runs = earlier_runs(outputs / case)
            latest = f"; the latest run of case '{case}' is {_shown(runs[0], root)}" if runs else ""
            found.append(
                f"inputs_from= folder not found: {explicit} (a relative path starts at the "
                f"project root){latest}"
            )
            return None, {}
    candidates = [explicit] if explicit else earlier_runs(outputs / case)
    by_name = {s.name: s for s in steps}
    run, origin = choose_inputs_run(
        outputs,
        candidates,
        lambda run_dir: _holds(run_dir, list(wanted), io_mapping),
        {name: _made_by(by_name[producer], steps) for name, (_, producer) in wanted.items()},
        params,
    )
    if run is not None:
        return run, origin
    off = {s.name for s in steps if not s.enabled}
    source = f"in {explicit}" if explicit else f"in any earlier run of case '{case}'"
    for name, (reader, producer) in wanted.items():
        state = ", which is switched off (enabled: false)" if producer in off else ""
        found.append(
            f"input '{name}' of step '{reader}' is produced by step '{producer}'{state}, "
            f"and no completed output of it was found {source}"
        )
    return None, {}


def _shown(path: Path, root: Path) -> Path:
    """`path` from the project root when it lies inside it: shorter to read."""
    return path.relative_to(root) if path.is_relative_to(root) else path


def _made_by(producer: Step, steps: list[Step]) -> list[Step]:
    """`producer` and every step upstream of it: their parameters all shaped its output."""
    makes = {s.produces: s for s in steps if s.produces}
    found: dict[str, Step] = {}
    todo = [producer]
    while todo:
        step = todo.pop()
        if step.name not in found:
            found[step.name] = step
            todo += [makes[name] for name in step.consumes if name in makes]
    return list(found.values())


def _holds(run_dir: Path, wanted: list[str], io_mapping: dict[str, Any]) -> bool:
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
    implied: dict[str, Any],
    producers: dict[str, str],
    registry: Registry,
    project: Project,
    cfg: DictConfig,
    run_dir: Path,
    found: list[str],
) -> dict[str, DataEntry]:
    shown = f"cases/{cfg.case.name}/case.yaml"
    case_dir = project.case_dir(cfg.case.name)
    entries = {}
    for name, where in {**io_mapping, **implied}.items():
        spec = registry.handler_for(where.get("handler"), where["path"])
        if spec is None:
            found.append(_handler_problem(name, where, registry, shown))
            continue
        missing = missing_packages(spec.instance)
        if missing:
            found.append(f"handler '{spec.name}' of '{name}' (in {shown}) {missing}")
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
        elif _escapes(path):
            found.append(
                f"output '{name}' has path '{where['path']}', which leaves the run "
                f"directory (in {shown}); give a relative path inside it"
            )
            continue
        else:
            location = run_dir / path
        args, wrong = check_handler_args(
            spec, _handler_args(spec, name, where.get("handler_args")), saving=producer is not None
        )
        found.extend(
            f"io_mapping.{name}.handler_args.{problem} (handler '{spec.name}', in {shown})"
            for problem in wrong
        )
        if wrong:
            continue  # said once: its handler's own check of the input would say it again
        entries[name] = DataEntry(
            name=name,
            path=location,
            handler=spec,
            args=args,
            producer=producer,
            declared=(
                f"not in the io_mapping of {shown}: placed by its type"
                if name in implied
                else f"{shown}, io_mapping.{name}"
            ),
            implied=name in implied,
        )
    return entries


def _handler_args(spec: HandlerSpec, name: str, given: Any) -> dict[str, Any]:
    """The case's handler_args over the handler's defaults for this logical name, if it has any.

    A recording handler defaults its topic to the logical name: `/predicted_states`.
    """
    defaults = getattr(spec.instance, "default_args", None)
    return {**(defaults(name) if callable(defaults) else {}), **dict(given or {})}


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


def _check_inputs(steps: list[Step], entries: dict[str, DataEntry], found: list[str]) -> None:
    checked: set[str] = set()
    for step in steps:
        for name in step.consumes:
            entry = entries.get(name)
            if entry is None or entry.producer is not None or name in checked:
                continue
            checked.add(name)
            if not entry.path.exists():
                found.append(
                    f"input '{name}' of step '{step.name}' not found: {entry.path} "
                    f"(mapped in {entry.declared})"
                )
                continue
            problem = _check_content(entry)
            if problem:
                found.append(f"input '{name}' of step '{step.name}': {problem}")


def _check_content(entry: DataEntry) -> str | None:
    """What the input's handler finds wrong with it, if it checks (a recording's topic).

    Its details, on lines of their own, follow the problem's line, indented further.
    """
    check = getattr(entry.handler.instance, "check", None)
    if not callable(check):
        return None
    try:
        check(entry.path, **entry.args)
    except DataError as exc:
        return "\n    ".join([exc.message, *exc.details, f"(mapped in {entry.declared})"])
    return None
