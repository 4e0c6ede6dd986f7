"""nexus: a Hydra-configured runner for data-replay and processing pipelines.

Plugins are plain functions marked with `@plugin`; their pydantic config models declare
inputs and outputs with `DataSource`/`DataSink`; `@handler` classes teach the DataHub a format.

The names below are imported when first used, so that `python -m nexus` starts its own code
(and its Ctrl-C handling) before pydantic and pandas load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nexus.core.context import Metrics, RunContext
    from nexus.core.hub import DataHub
    from nexus.core.markers import DataSink, DataSource
    from nexus.core.registry import generator, handler, plugin
    from nexus.errors import NexusError

__all__ = [
    "DataHub",
    "DataSink",
    "DataSource",
    "Metrics",
    "NexusError",
    "RunContext",
    "__version__",
    "generator",
    "handler",
    "plugin",
]

__version__ = "0.1.0"

_HOMES = {
    "DataHub": "nexus.core.hub",
    "DataSink": "nexus.core.markers",
    "DataSource": "nexus.core.markers",
    "Metrics": "nexus.core.context",
    "NexusError": "nexus.errors",
    "RunContext": "nexus.core.context",
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
