"""What nexus injects into a plugin: one table of service names and the types that ask for them.

`Services` is the table: its fields are the names a plugin's parameters ask for, their types
the annotations that ask by type. The registry reads it when a plugin is registered
(`SERVICES`), the runner fills it when the plugin is called.
"""

# Without `from __future__ import annotations`: the fields' types are classes, read below.

import logging
from dataclasses import dataclass, fields
from typing import Any

from nexus.core.context import Metrics, RunContext
from nexus.core.hub import DataHub
from nexus.core.progress import Progress

__all__ = ["SERVICES", "Services", "service_for_type"]


@dataclass(frozen=True)
class Services:
    """The services of one call of a plugin, each under the parameter name that asks for it."""

    config: Any  # the plugin's own model: matched by type at registration, not here
    logger: logging.Logger
    hub: DataHub
    context: RunContext
    metrics: Metrics
    progress: Progress

    def arguments(self, injections: dict[str, str]) -> dict[str, Any]:
        """The keyword arguments of a call: parameter -> the service registration chose."""
        return {param: getattr(self, service) for param, service in injections.items()}


#: Every injectable service by parameter name, with the type that asks for it by annotation.
#: `config` is the plugin's own model, so its type is matched separately (None here).
SERVICES: dict[str, type | None] = {
    field.name: None if field.type is Any else field.type for field in fields(Services)
}


def service_for_type(hint: type) -> str | None:
    """The service whose type `hint` is (or subclasses), if any."""
    return next(
        (name for name, cls in SERVICES.items() if cls is not None and issubclass(hint, cls)),
        None,
    )
