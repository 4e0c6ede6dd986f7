"""nexus: a Hydra-configured runner for data-replay and processing pipelines.

Plugins are plain functions marked with `@plugin`; their pydantic config models declare
inputs and outputs with `DataSource`/`DataSink`; `@handler` classes teach the DataHub a format.
"""

from nexus.core.context import Metrics, RunContext
from nexus.core.hub import DataHub
from nexus.core.markers import DataSink, DataSource
from nexus.core.processes import end_with_parent
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
    "end_with_parent",
    "generator",
    "handler",
    "plugin",
]

__version__ = "0.1.0"
