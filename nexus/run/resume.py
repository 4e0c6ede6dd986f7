"""After a failed step: the commands that re-run it and the steps after it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from nexus.config.overrides import parse_override

__all__ = ["rerun_command", "resume_commands"]


def rerun_command(overrides: Sequence[str]) -> str:
    """The command that ran the job: run again, it reuses every step that finished."""
    return " ".join(["python -m nexus", *(shlex.quote(o) for o in overrides)])


def resume_commands(overrides: Sequence[str], steps: Sequence[str], failed: str) -> list[str]:
    """`python -m nexus ... only="STEP"` for the failed step and each one after it.

    Each command takes the inputs the earlier steps produced from the latest run that has
    them, so the commands are meant to run one after the other, as printed.
    """
    if failed not in steps:
        return []
    kept = [o for o in overrides if parse_override(o).key not in ("only", "inputs_from")]
    base = " ".join(["python -m nexus", *(shlex.quote(o) for o in kept)])
    return [f'{base} only="{step}"' for step in steps[steps.index(failed) :]]
