"""A sweep from start to end: its checks, jobs done of total, and at the end a table of its
jobs, `summary.csv`, `summary.png`, the best job by the objective, and the parent run closed.

The end runs from Hydra's `on_multirun_end`, or from the CLI when a failed job made Hydra
raise (then `on_multirun_end` is never called): the callback leaves its `finish` in the
session for that.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from nexus.app.launchers import prepare_launcher
from nexus.app.objective import (
    Best,
    best_of,
    is_search,
    planned_jobs,
    prepare_search,
    unlogged_objective,
)
from nexus.app.sweep_console import SweepProgress, print_table, quiet_optuna
from nexus.config.overrides import parse_override
from nexus.errors import Abort, NexusError
from nexus.run.manifest import MANIFEST, read_manifest
from nexus.tracking.session import current_session

if TYPE_CHECKING:
    from nexus.tracking.tracker import Tracker

__all__ = [
    "SweepCallback",
    "SweepJob",
    "finish_sweep",
    "format_failures",
    "sweep_jobs",
]

log = logging.getLogger("nexus.app.sweeps")
MAX_TABLE_METRICS = 4  # more go to summary.csv only: the table must stay readable


@dataclass(frozen=True)
class SweepJob:
    """One job of a sweep, read from its `run.json`."""

    num: int
    run_dir: Path
    status: str
    overrides: dict[str, str]
    metrics: dict[str, float]
    error: str
    details: tuple[str, ...] = ()  # the error message's further lines: where, and the fix

    @property
    def ok(self) -> bool:
        return self.status == "completed"


class SweepCallback(Callback):
    """Checks a search, counts jobs done while the sweep runs, and summarises it at the end."""

    def __init__(self) -> None:
        self.config: DictConfig | None = None  # the sweep's, from its start to its summary
        self.watcher: SweepProgress | None = None
        self.tracker: Tracker | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"config": None, "watcher": None, "tracker": None}  # a worker's copy: nothing

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            prepare_search(config)
        except NexusError as exc:
            raise Abort(exc) from exc
        prepare_launcher(config)  # the sweeper makes the launcher from this config next
        if is_search(config):
            quiet_optuna()
        self.config = config
        session = current_session()
        if session is not None:
            self.tracker = session.tracker
            session.finish_sweep = self.finish  # for the CLI, when a failed job stops Hydra
        if not OmegaConf.is_missing(config, "case"):
            sweep_dir = Path(config.hydra.sweep.dir)
            self.watcher = SweepProgress(sweep_dir, planned_jobs(config)).start()

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self.watcher is not None:  # the job ran in this process (the basic launcher): count
            self.watcher.poll()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self.finish()

    def finish(self, interrupted: bool = False) -> list[SweepJob] | None:
        """Summarise the sweep, once; None when there is none (or it was summarised)."""
        config, self.config = self.config, None
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()
        return finish_sweep(config, self.tracker, interrupted) if config is not None else None


def finish_sweep(
    config: DictConfig, tracker: Tracker | None = None, interrupted: bool = False
) -> list[SweepJob]:
    """Write the summary files, print the table, log and close the parent MLflow run."""
    from nexus.run.orphans import mark_orphans

    sweep_dir = Path(config.hydra.sweep.dir)
    mark_orphans(sweep_dir, config, tracker)  # jobs whose worker process was killed
    jobs = sweep_jobs(sweep_dir)
    swept = swept_keys(jobs)
    if jobs:
        write_summary_csv(sweep_dir / "summary.csv", jobs, swept)
        plot_summary(sweep_dir / "summary.png", jobs, swept, config)
    print_table(jobs, sweep_dir, swept, table_metrics(config, jobs))
    failures = format_failures(jobs)
    if failures:
        print(failures, flush=True)
    if jobs:
        where = _shown(sweep_dir)
        print(f"summary: {where / 'summary.csv'}, {where / 'summary.png'}", flush=True)
    best = best_of(config, sweep_dir, [(j.overrides, j.metrics) for j in jobs if j.ok])
    if best is not None:
        print(best.line(), flush=True)
    unlogged = unlogged_objective(config, [j.metrics for j in jobs if j.ok])
    if unlogged is not None:
        print(f"warning: {unlogged}", flush=True)
    ending = "KILLED" if interrupted else "FAILED" if any(not j.ok for j in jobs) else "FINISHED"
    if tracker is not None:
        _close_parent(config, tracker, sweep_dir, ending, best)
    return jobs


def sweep_jobs(sweep_dir: Path) -> list[SweepJob]:
    """The jobs of a sweep directory, by job number."""
    jobs = []
    for manifest_path in sweep_dir.glob(f"*/{MANIFEST}"):
        data = read_manifest(manifest_path.parent) or {}
        name = manifest_path.parent.name
        error = data.get("error") or {}
        jobs.append(
            SweepJob(
                num=int(name) if name.isdigit() else len(jobs),
                run_dir=manifest_path.parent,
                status=str(data.get("status", "unknown")),
                overrides={
                    o.key: o.value
                    for o in map(parse_override, data.get("overrides", []))
                    if o.value is not None
                },
                metrics={k: float(v) for k, v in (data.get("metrics") or {}).items()},
                error=(str(error.get("message", "")).splitlines() or [""])[0] if error else "",
                details=tuple(str(error.get("message", "")).splitlines()[1:]) if error else (),
            )
        )
    return sorted(jobs, key=lambda j: j.num)


def swept_keys(jobs: list[SweepJob]) -> list[str]:
    """Override keys whose value differs between jobs (all keys for a single job)."""
    keys = sorted({k for j in jobs for k in j.overrides if not k.startswith("tracking.parent")})
    if len(jobs) < 2:
        return keys
    return [k for k in keys if len({j.overrides.get(k) for j in jobs}) > 1]


def write_summary_csv(path: Path, jobs: list[SweepJob], swept: list[str]) -> None:
    """One row per job: swept values, metrics, status, run directory."""
    metrics = sorted({m for j in jobs for m in j.metrics})
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["job", *swept, *metrics, "status", "run_dir", "error"])
        for job in jobs:
            writer.writerow(
                [
                    job.num,
                    *(job.overrides.get(k, "") for k in swept),
                    *(job.metrics.get(m, "") for m in metrics),
                    job.status,
                    str(job.run_dir),
                    job.error,
                ]
            )


def plot_summary(
    path: Path, jobs: list[SweepJob], swept: list[str], config: DictConfig | None = None
) -> None:
    """`summary.png`: each metric against the swept parameters (see `nexus.app.sweep_plot`)."""
    from nexus.app.sweep_plot import Point
    from nexus.app.sweep_plot import plot_summary as plot

    metric = (config.get("objective") or {}).get("metric") if config is not None else None
    direction = str(config.objective.get("direction") or "minimize") if metric else ""
    points = [Point({k: j.overrides.get(k, "") for k in swept}, j.metrics) for j in jobs if j.ok]
    plot(path, points, swept, (str(metric), direction) if metric else None)


def table_metrics(config: DictConfig, jobs: list[SweepJob]) -> list[str]:
    """The objective's metric when the jobs logged it, else what they logged (not timings).

    An objective no job logged is said once, after the table: no empty column for it.
    """
    objective = (config.get("objective") or {}).get("metric")
    if objective and any(str(objective) in j.metrics for j in jobs):
        return [str(objective)]
    logged = sorted({m for j in jobs for m in j.metrics if not m.startswith("seconds.")})
    return logged[:MAX_TABLE_METRICS]


def format_failures(jobs: list[SweepJob]) -> str:
    """Each failed job's whole message, where the table has room for its first line only.

    A value the sweeper chose as it went (Optuna's) is checked by its job: this is where the
    user reads what was wrong with it, without opening the job's log.
    """
    blocks = [
        "\n".join([f"job #{job.num}: {job.error}", *(f"  {line.strip()}" for line in job.details)])
        for job in jobs
        if not job.ok and job.details
    ]
    return "\n".join(blocks)


def _close_parent(
    config: DictConfig, tracker: Tracker, sweep_dir: Path, ending: str, best: Best | None
) -> None:
    handle = tracker.parent_run(config) if config.tracking.enabled else None
    if handle is None:
        return
    names = ("summary.csv", "summary.png", "optimization_results.yaml")
    logged: dict[str, Any] = {"files": [(str(sweep_dir / name), None) for name in names]}
    if best is not None:  # the best job's parameters and value: `best.<name>`
        logged["params"] = {f"best.{k}": str(v) for k, v in best.params.items()}
        logged["metrics"] = {f"best.{best.metric}": best.value}
        logged["tags"] = {"nexus.best": best.line()}
    from nexus.tracking.callback import show_runs_page
    from nexus.tracking.store import TrackingError

    try:
        tracker.end(handle, ending, **logged)
        show_runs_page(config, tracker)
    except TrackingError as exc:
        tracker.report(f"{exc.message} (the sweep's run)")


def _shown(path: Path) -> Path:
    """`path` relative to the current directory when it lies inside it: shorter to read."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
