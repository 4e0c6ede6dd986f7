"""What the user is told about the cache: the decision per step, its console line, run.json."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATUSES", "Decision", "announce", "summary"]

log = logging.getLogger("nexus.run.cache")

#: What a step's entry in run.json says about the cache.
STATUSES = ("hit", "miss", "off", "refresh", "uncacheable")


@dataclass
class Decision:
    """Whether a step is reused or computed, and why."""

    step: str
    status: str
    key: str | None = None
    record: dict[str, Any] | None = None
    holder: dict[str, Any] | None = None
    reasons: list[str] = field(default_factory=list)
    placed: str | None = None  # reflink, hardlink or copy, on a hit

    @property
    def runs(self) -> bool:
        """Whether the step computes (anything but a hit)."""
        return self.status != "hit"


def announce(decision: Decision) -> None:
    """The console line that says whether a step is reused or runs, and why."""
    if decision.status == "hit":
        holder = decision.holder or {}
        log.info(
            "%s: reused from %s (saved %.1f s)",
            decision.step,
            holder.get("run"),
            float(holder.get("seconds") or 0),
        )
        return
    why = "; ".join(decision.reasons[:4])
    more = f"; and {len(decision.reasons) - 4} more" if len(decision.reasons) > 4 else ""
    if decision.status == "uncacheable":
        why = "not cached: " + why
    log.info("%s: runs (%s%s)", decision.step, why, more)


def summary(decision: Decision) -> dict[str, Any]:
    """The step's `cache` entry in run.json."""
    record = decision.record or {}
    holder = decision.holder or {}
    found: dict[str, Any] = {"status": decision.status, "key": decision.key}
    if decision.status == "hit":
        found.update(
            reused_from=holder.get("run"),
            origin=holder.get("origin"),
            placed_by=decision.placed,
            seconds_saved=holder.get("seconds"),
        )
    if decision.reasons:
        found["reasons"] = decision.reasons
    if record:
        found["inputs"] = {
            n: (v or {}).get("hash") for n, v in (record.get("inputs") or {}).items()
        }
    found["outputs"] = {n: o.get("hash") for n, o in (holder.get("outputs") or {}).items()}
    if record:
        found.update(
            code=record.get("code"), packages=record.get("packages"), python=record["python"]
        )
    return found
