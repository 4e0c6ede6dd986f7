"""Validating the steps' parameters against their models, naming the layer of each value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf
from pydantic import ValidationError

from nexus.config.cases import step_key
from nexus.config.overrides import parse_override
from nexus.config.wiring import WiredStep, wired_steps
from nexus.core.project import Project
from nexus.core.registry import PluginSpec, Registry
from nexus.core.yamlio import load_yaml
from nexus.errors import ConfigError, clipped, did_you_mean, problems

__all__ = ["Layers", "read_global_config", "step_parameters"]


@dataclass(frozen=True)
class Layers:
    """Which layer set a key: the command line, the case file, conf/, or a plugin default.

    `step_keys` holds, by step name, the keys of each step's own `config:` in the case file.
    """

    case_file: str
    cli_keys: frozenset[str] = frozenset()
    case_keys: frozenset[str] = frozenset()
    global_keys: frozenset[str] = frozenset()
    step_keys: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, project: Project, cfg: DictConfig, overrides: list[str]) -> Layers:
        """The layers of the composed `cfg`, from the files it came from and the overrides."""
        case_file = f"cases/{cfg.case.name}/case.yaml"
        raw_case = _safe_load(project.root / case_file)
        raw_global = read_global_config(project)
        return cls(
            case_file=case_file,
            cli_keys=frozenset(parse_override(o).key for o in overrides),
            case_keys=frozenset(_keys(raw_case.get("pipeline"))),
            global_keys=frozenset(_keys(raw_global.get("pipeline"))),
            step_keys=_own_config_keys(raw_case.get("steps")),
        )

    def origin(self, key: str, step: str | None = None) -> str:
        """Where `pipeline.<key>` came from; with `step` (a name), its own `key`."""
        if step is not None:
            if f"steps.{step_key(step)}.{key}" in self.cli_keys:
                return "the command line"
            if key in self.step_keys.get(step, ()):
                return f"{self.case_file}, steps: {step}"
            return "conf/config.yaml"
        if f"pipeline.{key}" in self.cli_keys:
            return "the command line"
        if key in self.case_keys:
            return self.case_file
        if key in self.global_keys:
            return "conf/config.yaml"
        return "the plugin's default"


def _own_config_keys(steps: Any) -> dict[str, frozenset[str]]:
    """Step name -> the keys of its `config:` in the raw case file."""
    own = {}
    for entry in steps if isinstance(steps, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("config"), dict):
            name = entry.get("name") or entry.get("plugin")
            own[str(name)] = frozenset(entry["config"])
    return own


def read_global_config(project: Project) -> dict[str, Any]:
    """`conf/config.yaml` as plain data (for its layer and `plugin_modules`)."""
    raw = load_yaml(project.conf_dir / "config.yaml", "conf/config.yaml")
    return raw if isinstance(raw, dict) else {}


def step_parameters(
    cfg: DictConfig, registry: Registry, layers: Layers
) -> dict[str, dict[str, Any]]:
    """Each step's validated parameters; every problem of every step is reported together.

    A step's value is its own (`steps.<key>.<param>`, from the case or the command line)
    when it has one, else `pipeline.<param>`. A step switched off is not validated; its
    parameters still count as known.
    """
    try:
        pipeline = _mapping(cfg.pipeline)
    except Exception as exc:  # an interpolation that does not resolve
        raise ConfigError(f"cannot resolve the parameters: {exc}") from exc
    wired = wired_steps(cfg)
    nodes = _mapping(cfg.get("steps"), resolve=False)
    specs = {w.name: registry.plugin_named(w.plugin, f"in case '{cfg.case.name}'") for w in wired}
    found = _unknown_keys(pipeline, specs, layers)
    found += _unknown_step_keys(cfg, wired, specs, nodes, layers)
    validated: dict[str, dict[str, Any]] = {}
    shared: dict[tuple[str, str], list[str]] = {}  # one bad value of several steps: one line
    for step in (w for w in wired if w.enabled):
        values, own = _values(cfg, step, specs[step.name], pipeline, nodes)
        params, errors = _validate(specs[step.name], step.name, values, own, layers)
        validated[step.name] = params
        for problem in errors:
            shared.setdefault(problem, []).append(step.name)
    found += [_with_steps(text, extra, names) for (text, extra), names in shared.items()]
    if found:
        raise ConfigError(
            f"{problems(len(found), 'invalid parameter')} in case '{cfg.case.name}'",
            [
                *found,
                "fix them in the file named, or override them: python -m nexus "
                f"case={cfg.case.name} pipeline.NAME=VALUE",
            ],
        )
    return validated


def _values(
    cfg: DictConfig,
    step: WiredStep,
    spec: PluginSpec,
    pipeline: dict[str, Any],
    nodes: dict[str, Any],
) -> tuple[dict[str, Any], set[str]]:
    """A step's parameter values, and which of them are its own (not `pipeline.*`)."""
    node = nodes.get(step.key) or {}
    values: dict[str, Any] = {}
    own: set[str] = set()
    for param in spec.parameters:
        raw = node.get(param, _FROM_PIPELINE.format(param)) if param != "enabled" else None
        if raw is None or raw == _FROM_PIPELINE.format(param):
            if param in pipeline:
                values[param] = pipeline[param]
            continue
        try:
            value = cfg.steps[step.key][param]
        except Exception as exc:  # an interpolation that does not resolve
            raise ConfigError(f"cannot resolve steps.{step.key}.{param}: {exc}") from exc
        values[param] = OmegaConf.to_container(value, resolve=True) if _is_node(value) else value
        own.add(param)
    return values, own


_FROM_PIPELINE = "${{pipeline.{}}}"  # a step's value when it has none of its own


def _is_node(value: Any) -> bool:
    return OmegaConf.is_config(value)


def _validate(
    spec: PluginSpec, step: str, values: dict[str, Any], own: set[str], layers: Layers
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate parameters only: errors of the source and sink fields are left for run time."""
    if spec.config_model is None:
        return {}, []
    io_fields = set(spec.sources) | ({spec.sink[0]} if spec.sink else set())
    try:
        model = spec.config_model.model_validate(values)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not e["loc"] or e["loc"][0] not in io_fields]
        lines = [_describe(spec, step, e, values, own, layers) for e in errors]
        return values, lines
    return {
        k: getattr(model, k) for k in spec.parameters if k in model.model_fields_set or k in values
    }, []


def _describe(
    spec: PluginSpec,
    step: str,
    error: Any,
    values: dict[str, Any],
    own: set[str],
    layers: Layers,
) -> tuple[str, str]:
    """The problem, and what to add after the step's name."""
    loc = [str(p) for p in error["loc"]]
    key = loc[0] if loc else "?"
    shown = ".".join(loc)
    if key in own:
        origin = layers.origin(key, step)
        return (
            f"steps.{step_key(step)}.{shown} = {values[key]!r} (from {origin}): {error['msg']}",
            "",
        )
    if key in values:
        shown_value = clipped(repr(values[key]))
        return f"pipeline.{shown} = {shown_value} (from {layers.origin(key)}): {error['msg']}", ""
    return f"pipeline.{shown}: {error['msg']}", f", no default in {_model(spec)}"


def _with_steps(text: str, extra: str, steps: list[str]) -> str:
    names = ", ".join(f"'{s}'" for s in steps)
    return f"{text} [{'step' if len(steps) == 1 else 'steps'} {names}{extra}]"


def _model(spec: PluginSpec) -> str:
    return spec.config_model.__name__ if spec.config_model else "(no config)"


def _unknown_keys(
    pipeline: dict[str, Any], specs: dict[str, PluginSpec], layers: Layers
) -> list[str]:
    declared = {p for spec in specs.values() for p in spec.parameters}
    found = []
    for key, value in pipeline.items():
        origin = layers.origin(key)
        if key in declared or origin == "conf/config.yaml":  # conf/ is shared by all cases
            continue
        hint = did_you_mean(key, sorted(declared))
        found.append(
            f"pipeline.{key} = {clipped(repr(value))} (from {origin}): no step of this case has "
            f"a parameter '{key}'" + (f"; {hint}" if hint else "")
        )
    return found


def _unknown_step_keys(
    cfg: DictConfig,
    wired: list[WiredStep],
    specs: dict[str, PluginSpec],
    nodes: dict[str, Any],
    layers: Layers,
) -> list[str]:
    """`steps.<key>` naming no step, `steps.<key>.<param>` naming no parameter of it."""
    by_key = {w.key: w for w in wired}
    found = []
    for key, node in nodes.items():
        step = by_key.get(key)
        if step is None:
            hint = did_you_mean(key, list(by_key))
            found.append(
                f"steps.{key}: case '{cfg.case.name}' has no step with that key"
                + (f"; {hint}" if hint else "")
                + f" (its steps: {', '.join(by_key)})"
            )
            continue
        params = specs[step.name].parameters
        for param, value in (node or {}).items():
            if param == "enabled":
                if not isinstance(value, bool):
                    found.append(
                        f"steps.{key}.enabled = {value!r} (from "
                        f"{layers.origin(param, step.name)}): must be true or false"
                    )
            elif param not in params:
                hint = did_you_mean(param, sorted(params))
                found.append(
                    f"steps.{key}.{param} = {value!r} (from {layers.origin(param, step.name)}): "
                    f"step '{step.name}' has no parameter '{param}'" + (f"; {hint}" if hint else "")
                )
    return found


def _mapping(node: Any, resolve: bool = True) -> dict[str, Any]:
    """A config node as a plain dict ({} for None)."""
    data = OmegaConf.to_container(node, resolve=resolve) if node is not None else None
    return cast(dict[str, Any], data) if isinstance(data, dict) else {}


def _keys(section: Any) -> list[str]:
    return list(section) if isinstance(section, dict) else []


def _safe_load(path: Any) -> dict[str, Any]:
    raw = load_yaml(path) if path.is_file() else {}
    return raw if isinstance(raw, dict) else {}
