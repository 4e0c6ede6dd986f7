"""Before a grid sweep's first job: every swept value of every parameter, checked at once.

Hydra's basic sweeper knows all its values in advance (lists, `range(...)`, `choice(...)`),
so a bad one is found before any job runs, together with every other bad one, instead of
job by job in the jobs' logs. Other sweepers choose their values as they go: their jobs
check their own, and the sweep's end shows each failed job's message.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from nexus.config.params import Layers, step_parameters
from nexus.core.project import Project
from nexus.core.registry import Registry
from nexus.errors import ConfigError, problems

__all__ = ["check_swept_values", "swept_values"]


def swept_values(config: DictConfig) -> dict[str, list[Any]]:
    """`pipeline.<name>` -> the values the basic sweeper will give it; {} for other sweepers."""
    sweeper = config.hydra.get("sweeper") or {}
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return {}
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = [str(o) for o in config.hydra.overrides.task]
    overrides += [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:  # Hydra reports a malformed override itself, better than we could
        return {}
    return {
        o.get_key_element().lstrip("+~"): list(o.sweep_iterator())
        for o in parsed
        if o.is_sweep_override() and o.get_key_element().lstrip("+~").startswith("pipeline.")
    }


def check_swept_values(config: DictConfig, registry: Registry, project: Project) -> None:
    """Raise one ConfigError naming every swept value a step's model refuses.

    Each value is checked in the sweep's config with only its own key changed; the config
    without the swept keys is checked already (see PreflightCallback).
    """
    values = swept_values(config)
    if not values:
        return
    layers = Layers.of(project, config, [str(o) for o in config.hydra.overrides.task])
    base = {
        "pipeline": OmegaConf.to_container(config.pipeline, resolve=True) or {},
        "case": OmegaConf.to_container(config.case, resolve=True),
    }
    found: list[str] = []
    for key, choices in values.items():
        name = key.removeprefix("pipeline.")
        for index, value in enumerate(choices, 1):
            trial = OmegaConf.create({**base, "pipeline": {**base["pipeline"], name: value}})
            try:
                step_parameters(trial, registry, layers)
            except ConfigError as exc:
                found += [
                    f"{line} (value {index} of {len(choices)})"
                    for line in exc.details
                    if line.startswith(f"{key} = ")
                ]
    if found:
        swept = " ".join(f"{k}=..." for k in values)
        raise ConfigError(
            f"{problems(len(found), 'invalid value')} in the sweep of case '{config.case.name}'"
            ", found before any job ran",
            [
                *dict.fromkeys(found),
                f"fix or drop them: python -m nexus case={config.case.name} {swept} -m",
            ],
        )
