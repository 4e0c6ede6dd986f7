"""The exceptions nexus raises for problems a user can fix.

NexusError                   anything nexus reports as a user mistake
├── ProjectError             no project root, unknown case, malformed YAML
├── ConfigError              invalid parameters, unknown keys (may hold several problems)
├── PluginError              a plugin or handler defined wrongly, or two with one name
│   └── PluginImportError    a plugin module that fails to import
├── PlanError                steps that cannot run together (may hold several problems)
├── DataError                an input missing or unreadable, an output that cannot be saved
└── StepError                a step raised while it ran
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "Abort",
    "ConfigError",
    "DataError",
    "Interrupted",
    "NexusError",
    "PlanError",
    "PluginError",
    "PluginImportError",
    "ProjectError",
    "StepError",
    "clipped",
    "did_you_mean",
    "unknown_keys",
]


class NexusError(Exception):
    """A problem the user can fix; its message is printed without a traceback.

    Args:
        message: the first line: what failed, with names in quotes.
        details: further lines: where it came from, alternatives, the fix.
    """

    def __init__(self, message: str, details: Iterable[str] = ()) -> None:
        self.message = message
        self.details = [line for line in details if line]
        super().__init__(self.render())

    def render(self) -> str:
        """The message and its details, one indented line each."""
        return "\n".join([self.message, *(f"  {line}" for line in self.details)])


class ProjectError(NexusError):
    """The project, a case or a YAML file is missing or malformed."""


class ConfigError(NexusError):
    """Parameters that do not fit the steps' config models."""


class PluginError(NexusError):
    """A plugin or handler that is defined wrongly."""


class PluginImportError(PluginError):
    """A module with plugins or handlers that fails to import."""


class PlanError(NexusError):
    """Steps, data names and handlers that do not fit together."""


class DataError(NexusError):
    """Data that cannot be loaded or saved."""


class StepError(NexusError):
    """A step that raised while it ran."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM ended a run; `details` say where its log is and how to go on."""

    def __init__(self, details: Iterable[str] = ()) -> None:
        super().__init__("interrupted")
        self.details = [line for line in details if line]

    def __reduce__(self) -> tuple[type[Interrupted], tuple[list[str]]]:
        return (Interrupted, (self.details,))  # from a worker process, details intact


class Abort(BaseException):
    """Carries a NexusError out of a Hydra callback.

    Hydra turns an Exception raised in a callback into a warning and goes on; a
    BaseException passes through, and the CLI reports the error it carries.
    """

    def __init__(self, error: NexusError) -> None:
        super().__init__(error.render())
        self.error = error


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """A 'did you mean ...?' line for the closest choices, or '' when none is close."""
    matches = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not matches:
        return ""
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def unknown_keys(given: Iterable[object], known: Sequence[str]) -> list[str]:
    """'key: unknown; did you mean ...?; known: ...' for each of `given` not in `known`."""
    lines = []
    for key in given:
        if key not in known:
            hint = did_you_mean(str(key), known)
            shown = ", ".join(known[:12]) + (
                f" and {len(known) - 12} more" if len(known) > 12 else ""
            )
            lines.append(f"{key}: unknown" + (f"; {hint}" if hint else "") + f"; known: {shown}")
    return lines


def problems(count: int, what: str) -> str:
    """'1 invalid parameter' or '3 invalid parameters'."""
    return f"{count} {what}" + ("" if count == 1 else "s")


def clipped(text: str, limit: int = 200) -> str:
    """`text`, or its start and end around '...(N characters)...' when longer than `limit`."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    return f"{text[:keep]}...({len(text) - 2 * keep:,} characters)...{text[-keep:]}"
