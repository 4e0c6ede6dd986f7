"""After a failed step: the commands that re-run it and the steps after it."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

__all__ = ["resume_commands"]


def resume_commands(overrides: Sequence[str], steps: Sequence[str], failed: str) -> list[str]:
    """`python -m nexus ... only="STEP"` for the failed step and each one after it.

    Each command takes the inputs the earlier steps produced from the latest run that has
    them, so the commands are meant to run one after the other, as printed.
    """
    if failed not in steps:
        return []
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in ("only", "inputs_from")]
    base = " ".join(["python -m nexus", *(shlex.quote(o) for o in kept)])
    return [f'{base} only="{step}"' for step in steps[steps.index(failed) :]]
