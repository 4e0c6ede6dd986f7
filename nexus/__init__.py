"""nexus: a Hydra-configured runner for data-replay and processing pipelines.

Plugins are plain functions marked with `@plugin`; their pydantic config models declare
inputs and outputs with `DataSource`/`DataSink`; `@handler` classes teach the DataHub a format.
Everything a plugin or handler author needs is importable from here; the subpackages are the
framework's inside: `core` < `handlers` < `config` < `run` < `tracking` < `app` < `cli`.
"""

from nexus.core.context import Metrics, RunContext
from nexus.core.hub import DataHub
from nexus.core.markers import DataSink, DataSource
from nexus.core.progress import Progress
from nexus.core.registry import generator, handler, plugin
from nexus.core.specs import Handler
from nexus.core.version import __version__
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
    "generator",
    "handler",
    "plugin",
]
