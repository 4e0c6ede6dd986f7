"""nexus: a Hydra-configured runner for data-replay and processing pipelines.

Plugins are plain functions marked with `@plugin`; their pydantic config models declare
inputs and outputs with `DataSource`/`DataSink`; `@handler` classes teach the DataHub a format.
Everything a plugin or handler author needs is importable from here; the subpackages are the
framework's inside: `core` < `handlers` < `config` < `run` < `tracking` < `app` < `cli`.

The names below are imported when first used, so that `python -m nexus` starts its own code
(and its Ctrl-C handling) before pydantic and pandas load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nexus.core.version import __version__

if TYPE_CHECKING:
    from nexus.core.context import Metrics, RunContext
    from nexus.core.hub import DataHub
    from nexus.core.markers import DataSink, DataSource
    from nexus.core.processes import end_with_parent
    from nexus.core.progress import Progress
    from nexus.core.registry import generator, handler, plugin
    from nexus.core.specs import Handler
    from nexus.errors import (
        ConfigError,
        DataError,
        NexusError,
        PlanError,
        PluginError,
        ProjectError,
        StepError,
    )
    from nexus.handlers import FrameSequence, McapHandler, Video

__all__ = [
    "ConfigError",
    "DataError",
    "DataHub",
    "DataSink",
    "DataSource",
    "FrameSequence",
    "Handler",
    "McapHandler",
    "Metrics",
    "NexusError",
    "PlanError",
    "PluginError",
    "Progress",
    "ProjectError",
    "RunContext",
    "StepError",
    "Video",
    "__version__",
    "end_with_parent",
    "generator",
    "handler",
    "plugin",
]

_HOMES = {
    "ConfigError": "nexus.errors",
    "DataError": "nexus.errors",
    "DataHub": "nexus.core.hub",
    "DataSink": "nexus.core.markers",
    "DataSource": "nexus.core.markers",
    "FrameSequence": "nexus.handlers",
    "Handler": "nexus.core.specs",
    "McapHandler": "nexus.handlers",
    "Metrics": "nexus.core.context",
    "NexusError": "nexus.errors",
    "PlanError": "nexus.errors",
    "PluginError": "nexus.errors",
    "Progress": "nexus.core.progress",
    "ProjectError": "nexus.errors",
    "RunContext": "nexus.core.context",
    "StepError": "nexus.errors",
    "Video": "nexus.handlers",
    "end_with_parent": "nexus.core.processes",
    "generator": "nexus.core.registry",
    "handler": "nexus.core.registry",
    "plugin": "nexus.core.registry",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'nexus' has no attribute '{name}'")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
