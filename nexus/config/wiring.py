"""Wiring: which of the case's names each step reads and writes, checked before a run.

A step entry of a case may rename its plugin's logical names (`inputs:` and `outputs:`,
plugin-side name -> case-side name); a name it leaves out keeps the plugin's. The wiring,
resolved, is in the config tree under `case.wiring` (so `--cfg job` shows it), and each
step's switch is `steps.<key>.enabled`. `check_wiring` finds every problem of it at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nexus.config.cases import CaseFile, step_key
from nexus.config.implied import implied_location
from nexus.core.registry import PluginSpec, Registry
from nexus.errors import did_you_mean

__all__ = ["Step", "WiredStep", "case_steps", "check_wiring", "resolve_wiring", "wired_steps"]


@dataclass(frozen=True)
class WiredStep:
    """A step as the config tree wires it: its plugin, renames and switch."""

    name: str
    plugin: str
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    enabled: bool = True

    @property
    def key(self) -> str:
        """Its key under `steps.` (`steps.close_up.zoom_factor=20`)."""
        return step_key(self.name)


@dataclass(frozen=True)
class Step:
    """One step of a plan: its name, plugin, validated parameters and wiring.

    `inputs` and `outputs` map the plugin's logical names to the case's; a name missing
    from them is the same on both sides.
    """

    name: str
    spec: PluginSpec
    params: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    enabled: bool = True

    def reads(self) -> dict[str, str]:
        """Config field -> the case's name it is loaded from."""
        return {f: self.inputs.get(m.name, m.name) for f, m in self.spec.sources.items()}

    @property
    def consumes(self) -> list[str]:
        """The case's names this step reads."""
        return list(dict.fromkeys(self.reads().values()))

    @property
    def produces(self) -> str | None:
        """The case's name this step writes, if any."""
        name = self.spec.produces
        return None if name is None else self.outputs.get(name, name)


def resolve_wiring(case: CaseFile, registry: Registry) -> dict[str, dict[str, Any]]:
    """The tree's `case.wiring`: per step, its plugin and every name it reads and writes."""
    wiring = {}
    for entry in case.entries():
        spec = registry.plugins.get(entry.plugin)
        reads = spec.consumes if spec else []
        writes = [spec.produces] if spec and spec.produces else []
        wiring[entry.step_name] = {
            "plugin": entry.plugin,
            "inputs": {**{n: n for n in reads}, **entry.inputs},
            "outputs": {**{n: n for n in writes}, **entry.outputs},
        }
    return wiring


def wired_steps(cfg: DictConfig) -> list[WiredStep]:
    """The case's steps, in order, as the config tree wires and switches them."""
    wiring = _plain(cfg.case.get("wiring"))
    switches = _plain(cfg.get("steps"))
    steps = []
    for name in cfg.case.steps:
        wired = wiring.get(name) or {}
        switch = switches.get(step_key(name)) or {}
        steps.append(
            WiredStep(
                name=name,
                plugin=wired.get("plugin", name),
                inputs=dict(wired.get("inputs") or {}),
                outputs=dict(wired.get("outputs") or {}),
                enabled=switch.get("enabled", True) is not False,
            )
        )
    return steps


def case_steps(case: CaseFile, registry: Registry, name: str) -> list[Step]:
    """The steps of case `name` with their wiring and no parameters (for docs and list)."""
    wiring = resolve_wiring(case, registry)
    return [
        Step(
            entry.step_name,
            registry.plugin_named(entry.plugin, f"in the steps of case '{name}'"),
            {},
            wiring[entry.step_name]["inputs"],
            wiring[entry.step_name]["outputs"],
            entry.enabled,
        )
        for entry in case.entries()
    ]


def check_wiring(
    steps: Sequence[Step], io_mapping: dict[str, Any], registry: Registry, shown: str
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Every problem of the wiring, and the io_mapping entries of the outputs it leaves out.

    `shown` names the case file in the messages.
    """
    found = [line for step in steps for line in _unknown_renames(step)]
    producers = _producers(steps, found)
    cycles = _cycles(steps, producers)
    found += [_cycle_text(cycle, steps, producers) for cycle in cycles]
    found += _order(steps, producers, {name for cycle in cycles for name in cycle})
    found += _unwritten(steps, producers, io_mapping, shown)
    implied = {}
    for step in steps:
        name = step.produces
        if name is None or name in io_mapping or step.spec.sink is None:
            continue
        sink_field = step.spec.sink[0]
        annotation = step.spec.config_model.model_fields[sink_field].annotation  # type: ignore[union-attr]
        location = implied_location(annotation, name, registry.handlers)
        if location is None:
            found.append(_no_home(step, name, annotation, registry, shown))
        else:
            implied[name] = location
    return found, implied


def _unknown_renames(step: Step) -> list[str]:
    """Renames of names the plugin does not read (`inputs:`) or write (`outputs:`)."""
    reads = step.spec.consumes
    writes = [step.spec.produces] if step.spec.produces else []
    flow = f"(it reads: {', '.join(reads) or 'nothing'}; writes: {', '.join(writes) or 'nothing'})"
    found = []
    for kind, verb, renames, known, others in (
        ("inputs", "reads", step.inputs, reads, writes),
        ("outputs", "writes", step.outputs, writes, reads),
    ):
        for name in (n for n in renames if n not in known):
            hint = did_you_mean(name, known)
            if name in others:
                other = "outputs" if kind == "inputs" else "inputs"
                hint = f"'{name}' is one it {'writes' if kind == 'inputs' else 'reads'}: "
                hint += f"rename it under {other}:"
            found.append(
                f"step '{step.name}' renames '{name}' in {kind}:, but plugin "
                f"'{step.spec.name}' {verb} no such name{f'; {hint}' if hint else ''} {flow}"
            )
    return found


def _producers(steps: Sequence[Step], found: list[str]) -> dict[str, str]:
    producers: dict[str, str] = {}
    for step in steps:
        name = step.produces
        if name is None:
            continue
        if name in producers:
            found.append(
                f"'{name}' is produced by two steps: '{producers[name]}' and '{step.name}'; "
                f"give one of them another name: outputs: {{{step.spec.produces}: NEW_NAME}}"
            )
        producers.setdefault(name, step.name)
    return producers


def _depends(steps: Sequence[Step], producers: dict[str, str]) -> dict[str, set[str]]:
    """Step -> the other steps whose outputs it reads."""
    return {s.name: {producers[n] for n in s.consumes if n in producers} - {s.name} for s in steps}


def _cycles(steps: Sequence[Step], producers: dict[str, str]) -> list[list[str]]:
    """Groups of steps that read each other's outputs, each in the case's order."""
    direct = _depends(steps, producers)
    reach: dict[str, set[str]] = {}
    for start in direct:
        seen: set[str] = set()
        todo = list(direct[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(direct.get(name, ()))
        reach[start] = seen
    order = [s.name for s in steps]
    cycles: list[list[str]] = []
    for name in order:
        if name in reach[name] and not any(name in c for c in cycles):
            cycles.append(
                [n for n in order if n == name or (n in reach[name] and name in reach[n])]
            )
    return cycles


def _cycle_text(cycle: list[str], steps: Sequence[Step], producers: dict[str, str]) -> str:
    members = [s for s in steps if s.name in cycle]
    reads = [
        f"'{s.name}' reads '{n}' from '{producers[n]}'"
        for s in members
        for n in s.consumes
        if producers.get(n) in cycle and producers[n] != s.name
    ]
    names = ", ".join(f"'{n}'" for n in cycle)
    return f"steps {names} form a cycle: {'; '.join(reads)}; no order can run them"


def _order(steps: Sequence[Step], producers: dict[str, str], in_cycles: set[str]) -> list[str]:
    position = {s.name: i for i, s in enumerate(steps)}
    found = []
    for i, step in enumerate(steps):
        for name in step.consumes:
            producer = producers.get(name)
            if producer == step.name:
                found.append(f"step '{step.name}' reads '{name}', which it writes itself")
            elif producer is not None and position[producer] > i and producer not in in_cycles:
                found.append(
                    f"step '{step.name}' reads '{name}', which '{producer}' writes, "
                    f"but is listed before it: list '{producer}' first"
                )
    return found


def _unwritten(
    steps: Sequence[Step], producers: dict[str, str], io_mapping: dict[str, Any], shown: str
) -> list[str]:
    """Names a step must read that no step writes and no input file provides."""
    known = sorted(set(producers) | set(io_mapping))
    found = []
    for step in steps:
        for field_name, name in step.reads().items():
            if name in producers or name in io_mapping or _optional(step.spec, field_name):
                continue
            hint = did_you_mean(name, known)
            found.append(
                f"step '{step.name}' reads '{name}' (field '{field_name}'), which no step "
                f"writes and the io_mapping of {shown} does not map to an input file"
                + (f"; {hint}" if hint else f"; add it there: {name}: {{path: FILE}}")
            )
    return found


def _optional(spec: PluginSpec, field_name: str) -> bool:
    """A source with a default may be left unwired."""
    info = spec.config_model.model_fields[field_name] if spec.config_model else None
    return info is not None and not info.is_required()


def _no_home(step: Step, name: str, annotation: Any, registry: Registry, shown: str) -> str:
    from nexus.core.describe import type_name

    shown_type = type_name(annotation).removesuffix(" | None")
    return (
        f"step '{step.name}' writes '{name}' ({shown_type}), which the io_mapping of {shown} "
        f"does not map, and no handler is implied by its type; add a line there, e.g. "
        f"`{name}: {{path: {name}.EXT, handler: HANDLER}}` with a handler that saves a "
        f"{shown_type} (known handlers: {', '.join(sorted(registry.handlers))})"
    )


def _plain(node: Any) -> dict[str, Any]:
    data = OmegaConf.to_container(node, resolve=False) if OmegaConf.is_config(node) else node
    return data if isinstance(data, dict) else {}
