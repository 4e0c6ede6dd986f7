"""A command's session: its project and registry, its MLflow tracking, the sweep in progress.

The CLI makes one per command and makes it current while Hydra runs (`Session.active`):
Hydra creates the callbacks itself, from the config, and they find the session there. A
process with no current session (a joblib, submitit or Ray worker, nexus called as a
library) makes its own from the job's config.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus.core.discovery import discover
from nexus.core.project import Project
from nexus.core.registry import Registry

if TYPE_CHECKING:
    from nexus.tracking.tracker import Tracker

__all__ = ["Session", "current_session"]


def _new_tracker() -> Tracker:
    from nexus.tracking.tracker import Tracker

    return Tracker()


@dataclass
class Session:
    """The project and registry of a command, its MLflow tracking, and its sweep if any.

    `finish_sweep` is set while a sweep runs: it summarises the sweep (see `nexus.app.sweeps`).
    """

    project: Project
    registry: Registry
    tracker: Tracker = field(default_factory=_new_tracker)
    finish_sweep: Callable[[bool], Any] | None = None

    @classmethod
    def discovered(cls, root: Path, modules: list[str]) -> Session:
        """A session for the project at `root`, its plugins discovered afresh."""
        project = Project(root)
        return cls(project, discover(project, modules))

    @contextlib.contextmanager
    def active(self) -> Iterator[Session]:
        """Make this the current session while the block runs."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


# The session of the command running in this context; set only inside `Session.active`.
_current: ContextVar[Session | None] = ContextVar("nexus_session", default=None)


def current_session() -> Session | None:
    """The session made current by the command running now, if any."""
    return _current.get()
