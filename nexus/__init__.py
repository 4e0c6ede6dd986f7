"""nexus: a Hydra-configured runner for data-replay and processing pipelines.

Plugins are plain functions marked with `@plugin`; their pydantic config models declare
inputs and outputs with `DataSource`/`DataSink`; `@handler` classes teach the DataHub a format.
"""

from nexus.context import Metrics, RunContext
from nexus.errors import NexusError
from nexus.hub import DataHub
from nexus.markers import DataSink, DataSource
from nexus.processes import end_with_parent
from nexus.registry import generator, handler, plugin

__all__ = [
    "DataHub",
    "DataSink",
    "DataSource",
    "Metrics",
    "NexusError",
    "RunContext",
    "__version__",
    "end_with_parent",
    "generator",
    "handler",
    "plugin",
]

__version__ = "0.1.0"
