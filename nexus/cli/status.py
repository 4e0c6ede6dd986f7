"""`python -m nexus status case=NAME [overrides]`: which steps a run would reuse, which run, why.

Runs nothing: the config is composed as for a run, the plan checked, and each step's key
compared with the records of earlier runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from nexus.errors import ProjectError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from nexus.core.project import Project
    from nexus.core.registry import Registry
    from nexus.run.cache import Decision

__all__ = ["command"]


def command(args: list[str]) -> int:
    """Print, per step of the case, reuse or run and why."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from nexus.cli.main import _explain_hydra_error, _Hints, _report, _unknown_case
    from nexus.config.compose import register_configs
    from nexus.config.params import Layers, read_global_config, step_parameters
    from nexus.config.settings import check_settings
    from nexus.core.discovery import discover
    from nexus.core.hub import DataHub
    from nexus.core.project import find_project
    from nexus.run.cache.control import cache_session
    from nexus.run.plan import build_plan

    cases = [a.split("=", 1)[1] for a in args if a.startswith("case=")]
    if not cases or any(a in ("-m", "--multirun") for a in args):
        raise ProjectError(
            "status needs one case and no sweep: python -m nexus status case=NAME [KEY=VALUE ...]"
        )
    project = find_project()
    if cases[0] not in project.case_names():
        raise _unknown_case(cases[0], project.case_names())
    registry = discover(project, read_global_config(project).get("plugin_modules") or [])
    read = register_configs(project, registry, {cases[0]})
    hints = _Hints.of(registry, [read[cases[0]]] if cases[0] in read else [])
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(project.conf_dir), version_base="1.3"):
            cfg = compose("config", overrides=args)
    except Exception as exc:
        message = _explain_hydra_error(exc, hints)
        if message is None:
            raise
        return _report(message)
    check_settings(cfg)
    params = step_parameters(cfg, registry, Layers.of(project, cfg, args))
    if _raw_data_missing(cfg, project, registry):
        print(f"case '{cfg.case.name}': its raw data is not generated yet; a run generates it")
        print(f"and runs every step: {', '.join(map(str, cfg.case.steps))}; nothing was run")
        return 0
    with tempfile.TemporaryDirectory() as scratch:  # the plan needs a run directory: a dummy
        run_dir = Path(scratch) / "run"
        plan = build_plan(cfg, registry, project, params, run_dir)
        cache = cache_session(cfg, plan, run_dir)
        decisions = cache.predict(plan.steps, DataHub(plan.entries, run_dir))
    shown = " ".join(a for a in args if not a.startswith("case=")) or "no overrides"
    print(f"case '{cfg.case.name}' ({shown}):")
    for decision in decisions:
        print(f"  {_line(decision)}")
    runs = sum(d.runs for d in decisions)
    print(f"{runs} of {len(decisions)} steps would run; nothing was run")
    return 0


def _raw_data_missing(cfg: DictConfig, project: Project, registry: Registry) -> bool:
    """A case with a generator whose raw inputs are not there yet (as on a fresh clone)."""
    from nexus.config.wiring import wired_steps

    if not cfg.case.get("generator"):
        return False
    produced = {
        step.outputs.get(spec.produces, spec.produces)
        for step in wired_steps(cfg)
        if (spec := registry.plugins.get(step.plugin)) and spec.produces
    }
    case_dir = project.case_dir(cfg.case.name)
    return any(
        not (case_dir / str(where.path)).exists()
        for name, where in cfg.case.io_mapping.items()
        if name not in produced
    )


def _line(decision: Decision) -> str:
    if decision.status == "hit":
        holder = decision.holder or {}
        seconds = float(holder.get("seconds") or 0)
        return f"{decision.step}: reuse {holder.get('run')} (saves {seconds:.1f} s)"
    why = "; ".join(decision.reasons)
    if decision.status == "uncacheable":
        why = "not cached: " + why
    return f"{decision.step}: runs ({why})"
