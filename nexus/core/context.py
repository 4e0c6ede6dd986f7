"""What a running step can ask for besides its config: where it runs, and a metrics logger."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Metrics", "RunContext"]


@dataclass(frozen=True)
class RunContext:
    """Where a step runs.

    Attributes:
        run_dir: the run's own output directory.
        case_dir: the case's directory (`cases/<name>`), where its inputs live.
        project_root: the folder holding `conf/config.yaml`.
        run_id: the run directory's name, unique within the case.
        case: the case name.
        step: the name of the step being run.
    """

    run_dir: Path
    case_dir: Path
    project_root: Path
    run_id: str
    case: str
    step: str = ""


@dataclass
class Metrics:
    """Named numbers a step records; they go to `run.json` and to the tracking backend."""

    values: dict[str, float] = field(default_factory=dict)
    history: list[tuple[str, float, int | None]] = field(default_factory=list)

    def log(self, name: str, value: float, step: int | None = None) -> None:
        """Record `value` under `name` (the last value of a name is its summary)."""
        number = float(value)
        if not name or not isinstance(name, str):
            raise ValueError(f"a metric name must be a non-empty string, got {name!r}")
        if math.isnan(number):
            raise ValueError(f"metric '{name}' is NaN")
        self.values[name] = number
        self.history.append((name, number, step))

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values
