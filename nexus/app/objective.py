"""The objective of a parameter search: the metric a job returns, and the best job of a sweep.

`objective.metric` names a metric a step logs through `metrics`; every job returns its value,
which is what `hydra/sweeper=optuna` optimises, in `objective.direction`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from nexus.errors import ConfigError

__all__ = ["Best", "best_of", "is_search", "objective_value", "planned_jobs", "prepare_search"]

log = logging.getLogger("nexus.app.objective")

DIRECTIONS = ("minimize", "maximize")
RESULTS_FILE = "optimization_results.yaml"  # written by the Optuna sweeper into the sweep dir


@dataclass(frozen=True)
class Best:
    """The best job of a sweep by the objective."""

    metric: str
    direction: str
    value: float
    params: dict[str, Any]
    trials: int

    def line(self) -> str:
        """`best of 12 jobs (minimize rmse): pipeline.x=0.19 -> rmse=0.657`."""
        params = " ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        head = f"best of {self.trials} jobs ({self.direction} {self.metric})"
        return f"{head}: {params or '(nothing swept)'} -> {self.metric}={self.value:.6g}"


def objective_value(cfg: DictConfig, metrics: dict[str, float]) -> float | None:
    """The job's value of `objective.metric`; None when no objective is set or it is missing.

    Raises:
        ConfigError: the metric is missing and this job is a trial of a search, which
            would learn nothing from it.
    """
    metric = _metric(cfg)
    if metric is None or metric in metrics:
        return None if metric is None else float(metrics[metric])
    logged = ", ".join(sorted(metrics)) or "none"
    sweeper = _job_sweeper()
    if sweeper is not None and "optuna" in sweeper:
        raise ConfigError(
            f"objective.metric '{metric}' was not logged by this run",
            [f"metrics it logged: {logged}", "name one of them: objective.metric=NAME"],
        )
    if sweeper is not None:  # a grid sweep: its best job is picked by this metric
        log.warning("objective.metric '%s' was not logged by this run (logged: %s)", metric, logged)
    return None


def is_search(config: DictConfig) -> bool:
    """True when the sweeper is Optuna's, which needs every job to return the objective."""
    sweeper = config.hydra.get("sweeper") or {}
    return "optuna" in str(sweeper.get("_target_", "")).lower()


def _job_sweeper() -> str | None:
    """The sweeper's class path when this job is one of a sweep's, else None."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return str(HydraConfig.get().sweeper.get("_target_", "")).lower()


def prepare_search(config: DictConfig) -> None:
    """Before an Optuna sweep starts: check the objective, and point the search its way.

    Raises:
        ConfigError: no `objective.metric`, an unknown direction, or a
            `hydra.sweeper.direction` that contradicts `objective.direction`.
    """
    if not is_search(config):
        return
    if _metric(config) is None:
        raise ConfigError(
            "hydra/sweeper=optuna needs an objective: objective.metric is not set",
            [
                "name a metric a step logs through `metrics`, e.g. objective.metric=rmse",
                "set it in conf/config.yaml or on the command line",
            ],
        )
    direction = str(config.objective.get("direction") or "minimize")
    if direction not in DIRECTIONS:
        raise ConfigError(
            f"objective.direction = '{direction}': expected minimize or maximize",
            ["e.g. objective.direction=maximize"],
        )
    given = _hydra_override(config, "hydra.sweeper.direction")
    if given is not None and given != direction:
        raise ConfigError(
            f"hydra.sweeper.direction={given} contradicts objective.direction={direction}",
            [f"set the direction once: objective.direction={given}"],
        )
    # The sweeper is made from this config right after on_multirun_start.
    with read_write(config.hydra.sweeper), open_dict(config.hydra.sweeper):
        config.hydra.sweeper.direction = direction


def planned_jobs(config: DictConfig) -> int | None:
    """How many jobs the sweep will run, when the sweeper tells in advance (else None)."""
    sweeper = config.hydra.get("sweeper") or {}
    if is_search(config):
        return int(sweeper.get("n_trials") or 0) or None
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = [str(o) for o in config.hydra.overrides.task]
    params = sweeper.get("params") or {}
    overrides += [f"{k}={v}" for k, v in params.items()]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        count = 1
        for override in parsed:
            if override.is_sweep_override():
                count *= len(list(override.sweep_string_iterator()))
    except Exception:  # a glob over a config group: the sweeper alone can expand it
        return None
    return count


def best_of(
    config: DictConfig, sweep_dir: Path, jobs: list[tuple[dict[str, str], dict[str, float]]]
) -> Best | None:
    """The best job: the Optuna sweeper's own result, else the jobs' objective values.

    `jobs` holds each completed job's overrides and metrics.
    """
    metric = _metric(config)
    if metric is None:
        return None
    direction = str(config.objective.get("direction") or "minimize")
    results = sweep_dir / RESULTS_FILE
    if results.is_file():
        data = OmegaConf.to_container(OmegaConf.load(results)) or {}
        if isinstance(data, dict) and "best_value" in data:
            params = dict(data.get("best_params") or {})
            return Best(metric, direction, float(data["best_value"]), params, len(jobs))
    scored = [(m[metric], o) for o, m in jobs if metric in m and math.isfinite(m[metric])]
    if not scored:
        return None
    pick = min if direction == "minimize" else max
    value, overrides = pick(scored, key=lambda pair: pair[0])
    swept = {k: v for k, v in overrides.items() if _differs(k, jobs)}
    return Best(metric, direction, value, swept, len(jobs))


def _short(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _differs(key: str, jobs: list[tuple[dict[str, str], dict[str, float]]]) -> bool:
    return len({o.get(key) for o, _ in jobs}) > 1


def _metric(config: DictConfig) -> str | None:
    objective = config.get("objective") or {}
    metric = objective.get("metric")
    return str(metric) if metric else None


def _hydra_override(config: DictConfig, key: str) -> str | None:
    for override in config.hydra.overrides.hydra:
        name, _, value = str(override).partition("=")
        if name.lstrip("+~") == key:
            return value
    return None
