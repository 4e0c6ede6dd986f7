"""The framework's own part of the config tree, checked before anything uses it.

Overrides can put any value anywhere (`only=1`, `case.io_mapping.x.path=[1]`); this turns
such values into one clean ConfigError instead of a failure deep inside a run.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nexus.config.cases import DataLocation
from nexus.errors import ConfigError, problems

__all__ = ["check_settings"]


class _Paths(BaseModel):
    model_config = ConfigDict(extra="allow")

    root: str = Field(min_length=1)
    outputs: str = Field(min_length=1)


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    io_mapping: dict[str, DataLocation]
    steps: list[str] = Field(min_length=1)
    wiring: dict[str, Any] = Field(default_factory=dict)
    generator: str | None = None


class _Tracking(BaseModel):
    model_config = ConfigDict(extra="allow")

    enabled: bool
    uri: str | None = None
    experiment: str | None = None
    log_outputs: bool = True
    skip_handlers: list[str] = Field(default_factory=list)
    skip_outputs: list[str] = Field(default_factory=list)
    parent_run_id: str | None = None
    timeout_s: float = Field(default=15.0, gt=0, le=86400)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="allow")

    paths: _Paths
    case: _Case
    pipeline: dict[str, Any]
    only: str | None = None
    inputs_from: str | None = None
    plugin_modules: list[str] = Field(default_factory=list)
    cache: bool = True
    rerun: str | list[str] | None = None
    tracking: _Tracking


def check_settings(cfg: DictConfig) -> None:
    """Raise a ConfigError naming every framework key whose value has the wrong shape."""
    try:
        tree = {
            k: OmegaConf.to_container(cfg[k], resolve=True)
            if OmegaConf.is_config(cfg[k])
            else cfg[k]
            for k in cfg
            if k not in ("hydra", "steps")  # steps.*: checked with the parameters
        }
    except Exception as exc:  # an interpolation that does not resolve
        raise ConfigError(
            f"the config does not resolve: {exc}",
            ["check the ${...} references in your overrides and YAML files"],
        ) from exc
    try:
        _Settings.model_validate(tree)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError(
            f"{problems(len(lines), 'invalid setting')} of nexus",
            [*lines, "see every setting with: python -m nexus case=NAME --cfg job"],
        ) from None


def _describe(error: Any) -> str:
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    shown = repr(error.get("input"))
    return f"{key} = {shown[:60]}: {error['msg']}"
