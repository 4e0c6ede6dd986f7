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
    from nexus.context import Metrics, RunContext
    from nexus.errors import NexusError
    from nexus.hub import DataHub
    from nexus.markers import DataSink, DataSource
    from nexus.registry import generator, handler, plugin

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
    "DataHub": "nexus.hub",
    "DataSink": "nexus.markers",
    "DataSource": "nexus.markers",
    "Metrics": "nexus.context",
    "NexusError": "nexus.errors",
    "RunContext": "nexus.context",
    "generator": "nexus.registry",
    "handler": "nexus.registry",
    "plugin": "nexus.registry",
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
