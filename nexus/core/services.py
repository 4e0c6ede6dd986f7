"""What nexus injects into a plugin: one table of service names and the types that ask for them."""

from __future__ import annotations

import logging

from nexus.core.context import Metrics, RunContext
from nexus.core.hub import DataHub
from nexus.core.progress import Progress

__all__ = ["SERVICES", "service_for_type"]

#: Every injectable service by parameter name, with the type that asks for it by annotation.
#: `config` is the plugin's own model, so its type is matched separately.
SERVICES: dict[str, type | None] = {
    "config": None,
    "logger": logging.Logger,
    "hub": DataHub,
    "context": RunContext,
    "metrics": Metrics,
    "progress": Progress,
}


def service_for_type(hint: type) -> str | None:
    """The service whose type `hint` is (or subclasses), if any."""
    return next(
        (name for name, cls in SERVICES.items() if cls is not None and issubclass(hint, cls)),
        None,
    )
