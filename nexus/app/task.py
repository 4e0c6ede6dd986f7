"""What Hydra runs: the preflight callback, and the task function (`Job`) that runs one job.

Everything a job needs comes from its config (`paths.root` leads to the project), so a job
runs the same in this process, in a joblib worker, or on another host.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from nexus.app.objective import objective_value
from nexus.app.sweep_check import check_swept_values
from nexus.config.params import Layers, step_parameters
from nexus.config.settings import check_settings
from nexus.config.wiring import wired_steps
from nexus.core.context import RunContext
from nexus.core.generated import mark_generated
from nexus.core.hub import DataHub
from nexus.core.processes import interrupt_when_parent_dies
from nexus.errors import Abort, Interrupted, NexusError, ProjectError
from nexus.run.cache.control import cache_session, rerun_steps
from nexus.run.manifest import Manifest, code_version
from nexus.run.orphans import mark_orphans
from nexus.run.plan import Plan, build_plan
from nexus.run.resume import rerun_command, resume_commands
from nexus.run.rundirs import run_inside, user_overrides
from nexus.run.runner import run_plan
from nexus.tracking.session import Session, current_session

if TYPE_CHECKING:
    from nexus.tracking.tracker import JobRun

__all__ = ["Job", "PreflightCallback", "ensure_raw_data", "prepare", "session_for"]

log = logging.getLogger("nexus")
_GRACE_S = 10.0  # what a worker whose command died gets to end its job


def session_for(cfg: DictConfig, session: Session | None = None) -> Session:
    """`session` (else the current one) if it is the config's project's, else a new one."""
    session = session or current_session()
    if session is None or session.project.root != Path(cfg.paths.root):
        session = Session.discovered(Path(cfg.paths.root), list(cfg.get("plugin_modules") or []))
    return session


def prepare(cfg: DictConfig, session: Session, overrides: list[str], run_dir: Path) -> Plan:
    """Validate the settings, parameters and plan; raw data is generated when missing."""
    check_settings(cfg)
    layers = Layers.of(session.project, cfg, overrides)
    params = step_parameters(cfg, session.registry, layers)
    rerun_steps(cfg.get("rerun"), [str(s) for s in cfg.case.steps], str(cfg.case.name))
    ensure_raw_data(cfg, session)  # only once the parameters are known to be valid
    return build_plan(cfg, session.registry, session.project, params, run_dir)


def ensure_raw_data(cfg: DictConfig, session: Session, force: bool = False) -> list[Path]:
    """Run the case's generator when one of its inputs is missing (or when `force`)."""
    name = cfg.case.get("generator")
    if not name:
        return []
    case_dir = session.project.case_dir(cfg.case.name)
    produced = {
        step.outputs.get(spec.produces, spec.produces)
        for step in wired_steps(cfg)
        if (spec := session.registry.plugins.get(step.plugin)) and spec.produces
    }
    inputs = [case_dir / v["path"] for k, v in cfg.case.io_mapping.items() if k not in produced]
    if not force and all(p.exists() for p in inputs):
        return []
    spec = session.registry.generators.get(name)
    if spec is None:
        from nexus.errors import PlanError, did_you_mean

        raise PlanError(
            f"unknown generator '{name}' in cases/{cfg.case.name}/case.yaml",
            [
                did_you_mean(name, list(session.registry.generators)),
                f"known generators: {', '.join(sorted(session.registry.generators))}",
            ],
        )
    log.info("generating the raw data of case '%s' in %s", cfg.case.name, case_dir)
    written = [case_dir / path for path in spec.func(case_dir) or []]
    mark_generated(written)  # git leaves out what a generator makes again, and only that
    return written


class PreflightCallback(Callback):
    """Checks a run before Hydra creates its directory, so a mistake writes nothing."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _refuse_used_dir(config.hydra.run, "hydra.run.dir")
        self._check(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _refuse_used_dir(config.hydra.sweep, "hydra.sweep.dir")
        # The swept values are not in this config: the basic sweeper's are checked next, all
        # at once; each job checks its own again.
        if not OmegaConf.is_missing(config, "case") and "name" in config.case:
            self._check(config)
            session = session_for(config)
            try:
                check_swept_values(config, session.registry, session.project)
            except NexusError as exc:
                raise Abort(exc) from exc

    @staticmethod
    def _check(config: DictConfig) -> None:
        session = session_for(config)
        try:
            prepare(config, session, list(config.hydra.overrides.task), _placeholder(config))
            _check_writable(Path(config.paths.outputs) / str(config.case.name))
        except NexusError as exc:
            raise Abort(exc) from exc
        mark_orphans(Path(config.paths.outputs) / str(config.case.name), config, session.tracker)


def _refuse_used_dir(section: DictConfig, key: str) -> None:
    """Two runs never share a directory: a folder given for a run may not hold another run.

    nexus's own default claims a new folder as it resolves (see rundirs): not resolved here,
    so that a run refused later leaves no folder behind.
    """
    if "nexus.unique_dir" in str(OmegaConf.to_container(section, resolve=False).get("dir")):
        return
    folder = Path(section.dir)
    found = run_inside(folder)
    if found is not None:
        raise Abort(
            ProjectError(
                f"{key} names a folder that holds a run already: {folder}",
                [
                    f"found {found}",
                    f"runs never share a directory: leave {key} out (a new folder each "
                    "run), or name a new or empty folder",
                ],
            )
        )


def _check_writable(folder: Path) -> None:
    """Fail before the run when its outputs cannot be written at all (read-only, full)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ProjectError(
            f"cannot write the run's outputs to {folder}: {exc.strerror or exc}",
            [
                "make the folder writable, free some space, or move outputs/ "
                "with paths.outputs=/another/folder"
            ],
        ) from exc


def _placeholder(config: DictConfig) -> Path:
    return Path(config.paths.outputs) / str(config.case.name) / "(new run)"


class Job:
    """Hydra's task function: runs one job in the directory Hydra made for it.

    Its fields live as long as the command: the session, and the MLflow run of the job about
    to run, which the tracking callback hands it (`attach_mlflow_run`). A worker process of
    a sweep receives a fresh copy (see `__reduce__`) and makes its own session.
    """

    def __init__(self, session: Session | None = None, command_pid: int | None = None) -> None:
        self.session = session
        self.command_pid = command_pid or os.getpid()  # the `python -m nexus` process
        self._mlflow_run: JobRun | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (Job, (None, self.command_pid))  # the session and the run stay here

    def attach_mlflow_run(self, run: JobRun) -> None:
        """The MLflow run of the job about to run (called by the tracking callback)."""
        self._mlflow_run = run

    def __call__(self, cfg: DictConfig) -> float | None:
        mlflow_run, self._mlflow_run = self._mlflow_run, None
        if os.getpid() != self.command_pid and os.getppid() == self.command_pid:
            self._end_with_command()
        self.session = session_for(cfg, self.session)
        return self._run(cfg, self.session, mlflow_run)

    def _end_with_command(self) -> None:
        """In a worker process the command started (joblib): end when it dies, as Ctrl-C would.

        The job then ends its MLflow run KILLED and its run.json interrupted, within moments.
        """
        signal.signal(signal.SIGTERM, _interrupt)
        interrupt_when_parent_dies(grace_s=_GRACE_S)

    def _run(self, cfg: DictConfig, session: Session, mlflow_run: JobRun | None) -> float | None:
        hydra = HydraConfig.get()
        run_dir = Path(hydra.runtime.output_dir)
        overrides = user_overrides(hydra.overrides.task)
        tracked = bool(cfg.tracking.get("enabled")) and mlflow_run is not None
        manifest = Manifest.start(
            run_dir,
            case=str(cfg.case.name),
            overrides=overrides,
            only=cfg.get("only"),
            code=code_version(Path(str(cfg.paths.root))),
            late={"mlflow_run_id": mlflow_run.run_id} if tracked and mlflow_run else None,
            recorder=_recorder(session) if tracked else None,
        )
        plan: Plan | None = None
        try:
            plan = prepare(cfg, session, overrides, run_dir)
            if plan.inputs_from is not None:
                log.info("inputs from the earlier run %s", plan.inputs_from)
                manifest.data["inputs_from"] = str(plan.inputs_from)
                manifest.data["inputs_origin"] = plan.inputs_origin
            metrics = run_plan(
                plan,
                DataHub(plan.entries, run_dir),
                _context(cfg, session, run_dir),
                manifest,
                cache_session(cfg, plan, run_dir),
            )
            objective = objective_value(cfg, metrics.values)  # a search fails a run without it
        except KeyboardInterrupt as exc:
            if mlflow_run is not None:
                mlflow_run.tracker.interrupted = True
            manifest.finish("interrupted", exc)
            # Hydra skips on_job_end on Ctrl-C; in a worker process nobody else would end it.
            if mlflow_run is not None:
                mlflow_run.end("KILLED")
            if os.getpid() != self.command_pid and os.getppid() != self.command_pid:
                os._exit(1)  # the command is gone: nobody will take this job's result
            cached = bool(cfg.get("cache", True))
            hint = _resume_hint(manifest, plan, overrides, cached, "interrupted")
            raise Interrupted([f"log: {run_dir / 'nexus.log'}", *hint]) from exc
        except BaseException as exc:
            log.debug("the run failed", exc_info=True)  # the console formatter drops tracebacks
            manifest.finish("failed", exc)
            if isinstance(exc, NexusError):
                exc.details.append(f"log: {run_dir / 'nexus.log'}")
                cached = bool(cfg.get("cache", True))
                exc.details.extend(_resume_hint(manifest, plan, overrides, cached))
            raise
        manifest.data["metrics"] = dict(metrics.values)
        manifest.finish("completed")
        log.info("run completed: %s", run_dir)
        return objective  # what a search (hydra/sweeper=optuna) optimises


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}: the command ended")


def _recorder(session: Session) -> dict[str, Any] | None:
    """The MLflow helper's pid and start time, for run.json: who ends the run if nexus dies."""
    from nexus.run.manifest import process_start

    pid = session.tracker.helper_pid()
    return {"pid": pid, "pid_started": process_start(pid)} if pid else None


def _resume_hint(
    manifest: Manifest,
    plan: Plan | None,
    overrides: list[str],
    cached: bool,
    status: str = "failed",
) -> list[str]:
    """How to go on after the step that ended `status` (failed, interrupted)."""
    stopped = [s["name"] for s in manifest.data["steps"] if s["status"] == status]
    if plan is None or not stopped:
        return []
    if cached:
        return [
            "to resume, run the same command again: the steps that finished are reused",
            f"  {rerun_command(overrides)}",
        ]
    commands = resume_commands(overrides, [s.name for s in plan.steps], stopped[0])
    step = "failed" if status == "failed" else "interrupted"
    return [f"to resume from the {step} step, run:", *(f"  {c}" for c in commands)]


def _context(cfg: DictConfig, session: Session, run_dir: Path) -> RunContext:
    case_outputs = Path(cfg.paths.outputs) / str(cfg.case.name)
    try:
        run_id = str(run_dir.relative_to(case_outputs))
    except ValueError:
        run_id = run_dir.name
    return RunContext(
        run_dir=run_dir,
        case_dir=session.project.case_dir(cfg.case.name),
        project_root=session.project.root,
        run_id=run_id,
        case=str(cfg.case.name),
        sweep_job=_sweep_job(),
    )


def _sweep_job() -> int | None:
    """This job's number when it is one of a sweep's, else None."""
    from hydra.types import RunMode

    hydra = HydraConfig.get()
    return int(hydra.job.num) if hydra.mode == RunMode.MULTIRUN else None
