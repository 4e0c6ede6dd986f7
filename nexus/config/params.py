"""Validating the steps' parameters against their models, naming the layer of each value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf
from pydantic import ValidationError

from nexus.core.project import Project
from nexus.core.registry import PluginSpec, Registry
from nexus.core.yamlio import load_yaml
from nexus.errors import ConfigError, did_you_mean, problems

__all__ = ["Layers", "read_global_config", "step_parameters"]


@dataclass(frozen=True)
class Layers:
    """Which layer set a key: the command line, the case file, conf/, or a plugin default."""

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
        step_config = _mapping(cfg.case.step_config, resolve=False)
        step_keys = {name: frozenset(values) for name, values in step_config.items()}
        return cls(
            case_file=case_file,
            cli_keys=frozenset(override_key(o) for o in overrides),
            case_keys=frozenset(_keys(raw_case.get("pipeline"))),
            global_keys=frozenset(_keys(raw_global.get("pipeline"))),
            step_keys=step_keys,
        )

    def origin(self, key: str, step: str | None = None) -> str:
        """Where the value of `pipeline.<key>` (or of a step's own `key`) came from."""
        if step is not None and key in self.step_keys.get(step, ()):  # wins over pipeline.*
            return f"{self.case_file}, steps: {step}"
        if f"pipeline.{key}" in self.cli_keys:
            return "the command line"
        if key in self.case_keys:
            return self.case_file
        if key in self.global_keys:
            return "conf/config.yaml"
        return "the plugin's default"


def override_key(override: str) -> str:
    """`pipeline.x` of `+pipeline.x=1`, `++pipeline.x=1` or `~pipeline.x`."""
    return override.lstrip("+~").split("=", 1)[0].strip()


def read_global_config(project: Project) -> dict[str, Any]:
    """`conf/config.yaml` as plain data (for its layer and `plugin_modules`)."""
    raw = load_yaml(project.conf_dir / "config.yaml", "conf/config.yaml")
    return raw if isinstance(raw, dict) else {}


def step_parameters(
    cfg: DictConfig, registry: Registry, layers: Layers
) -> dict[str, dict[str, Any]]:
    """Each step's validated parameters; every problem of every step is reported together."""
    try:
        pipeline = _mapping(cfg.pipeline)
        step_config = _mapping(cfg.case.step_config)
    except Exception as exc:  # an interpolation that does not resolve
        raise ConfigError(f"cannot resolve the parameters: {exc}") from exc
    steps = {
        name: registry.plugin_named(name, f"in case '{cfg.case.name}'") for name in cfg.case.steps
    }
    found: list[str] = _unknown_keys(pipeline, steps, step_config, layers)
    validated: dict[str, dict[str, Any]] = {}
    shared: dict[tuple[str, str], list[str]] = {}  # one bad value of several steps: one line
    for name, spec in steps.items():
        values = {k: v for k, v in pipeline.items() if k in spec.parameters}
        values.update(step_config.get(name, {}))
        params, errors = _validate(spec, values, layers)
        validated[name] = params
        for problem in errors:
            shared.setdefault(problem, []).append(name)
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


def _validate(
    spec: PluginSpec, values: dict[str, Any], layers: Layers
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate parameters only: errors of the source and sink fields are left for run time."""
    if spec.config_model is None:
        return {}, []
    io_fields = set(spec.sources) | ({spec.sink[0]} if spec.sink else set())
    try:
        model = spec.config_model.model_validate(values)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not e["loc"] or e["loc"][0] not in io_fields]
        lines = [_describe(spec, e, values, layers) for e in errors]
        return values, lines
    return {
        k: getattr(model, k) for k in spec.parameters if k in model.model_fields_set or k in values
    }, []


def _describe(
    spec: PluginSpec, error: Any, values: dict[str, Any], layers: Layers
) -> tuple[str, str]:
    """The problem, and what to add after the step's name."""
    loc = [str(p) for p in error["loc"]]
    key = loc[0] if loc else "?"
    shown = ".".join(loc)
    if key in values:
        in_step = key in layers.step_keys.get(spec.name, ())
        name = f"steps: {spec.name}: config.{shown}" if in_step else f"pipeline.{shown}"
        origin = layers.origin(key, spec.name)
        return f"{name} = {values[key]!r} (from {origin}): {error['msg']}", ""
    return f"pipeline.{shown}: {error['msg']}", f", no default in {_model(spec)}"


def _with_steps(text: str, extra: str, steps: list[str]) -> str:
    names = ", ".join(f"'{s}'" for s in steps)
    return f"{text} [{'step' if len(steps) == 1 else 'steps'} {names}{extra}]"


def _model(spec: PluginSpec) -> str:
    return spec.config_model.__name__ if spec.config_model else "(no config)"


def _unknown_keys(
    pipeline: dict[str, Any],
    steps: dict[str, PluginSpec],
    step_config: dict[str, Any],
    layers: Layers,
) -> list[str]:
    declared = {p for spec in steps.values() for p in spec.parameters}
    found = []
    for key, value in pipeline.items():
        origin = layers.origin(key)
        if key in declared or origin == "conf/config.yaml":  # conf/ is shared by all cases
            continue
        hint = did_you_mean(key, sorted(declared))
        found.append(
            f"pipeline.{key} = {value!r} (from {origin}): no step of this case has "
            f"a parameter '{key}'" + (f"; {hint}" if hint else "")
        )
    for step, values in step_config.items():
        spec = steps.get(step)
        for key in values if spec else ():
            if key not in spec.parameters:  # type: ignore[union-attr]
                hint = did_you_mean(key, sorted(spec.parameters))  # type: ignore[union-attr]
                found.append(
                    f"steps: {step}: config.{key} (from {layers.case_file}): step "
                    f"'{step}' has no parameter '{key}'" + (f"; {hint}" if hint else "")
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
