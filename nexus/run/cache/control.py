"""What the config says about the cache: `cache=false`, `rerun=STEP` (or a list of steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig

from nexus.errors import ConfigError, did_you_mean
from nexus.run.cache.session import CacheSession

__all__ = ["cache_session", "rerun_steps"]


def cache_session(cfg: DictConfig, plan: Any, run_dir: Path) -> CacheSession:
    """The cache of a run of `plan`, as `cache=` and `rerun=` ask."""
    names = [str(name) for name in cfg.case.steps]
    return CacheSession(
        outputs=Path(str(cfg.paths.outputs)),
        project_root=Path(str(cfg.paths.root)),
        run_dir=run_dir,
        producers={s.produces: s.name for s in plan.steps if s.produces},
        enabled=bool(cfg.get("cache", True)),
        rerun=rerun_steps(cfg.get("rerun"), names, str(cfg.case.name)),
    )


def rerun_steps(value: Any, steps: list[str], case: str) -> set[str]:
    """The step names of `rerun=` (one name, or a list); an unknown one is a ConfigError."""
    if value is None:
        return set()
    wanted = list(value) if isinstance(value, ListConfig | list | tuple) else [value]
    unknown = [str(w) for w in wanted if str(w) not in steps]
    if unknown:
        raise ConfigError(
            f"unknown step in rerun=: '{unknown[0]}'",
            [did_you_mean(unknown[0], steps), f"steps of case '{case}': {', '.join(steps)}"],
        )
    return {str(w) for w in wanted}
