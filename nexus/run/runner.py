"""Running a plan: build each step's config, inject what it asks for, save what it returns."""

from __future__ import annotations

import logging
import time
import traceback
from functools import partial
from typing import Any

from pydantic import ValidationError

from nexus.core.context import Metrics, RunContext
from nexus.core.exits import exit_step_error, os_exit_refused
from nexus.core.hub import DataHub
from nexus.core.markers import DataSource
from nexus.core.progress import Progress
from nexus.core.services import Services
from nexus.core.text import slug
from nexus.errors import ConfigError, DataError, NexusError, StepError
from nexus.run.cache import CacheSession, summary
from nexus.run.manifest import Manifest, Output
from nexus.run.plan import Plan, Step

__all__ = ["build_config", "call_plugin", "run_plan", "step_logger", "store_result"]

log = logging.getLogger("nexus.run.runner")


def step_logger(step: str) -> logging.Logger:
    """The logger a step receives: a child of `nexus`, so it reaches the console and the log."""
    return logging.getLogger("nexus.step." + slug(step.lower()))


def run_plan(
    plan: Plan,
    hub: DataHub,
    context: RunContext,
    manifest: Manifest,
    cache: CacheSession | None = None,
) -> Metrics:
    """Run the plan's steps in order; a failing step stops the run with a StepError.

    With a `cache`, a step whose code, parameters and inputs are unchanged is reused.
    """
    metrics = Metrics()
    for name in plan.skipped:
        log.info("%s: switched off (enabled: false), skipped", name)
    if plan.skipped:
        manifest.data["skipped"] = list(plan.skipped)
    for index, step in enumerate(plan.steps, start=1):
        log.info("[%d/%d] %s", index, len(plan.steps), step.name)
        manifest.step_started(step.name)
        started = time.perf_counter()
        extra: dict[str, Any] = {}
        try:
            if cache is None:
                outputs = _run_step(step, hub, _context_for(context, step), metrics)
            else:
                compute = partial(_run_step, step, hub, _context_for(context, step), metrics)
                outputs, decision = cache.run(step, hub, metrics, compute)
                extra["cache"] = summary(decision)
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            manifest.step_finished(step.name, status, time.perf_counter() - started)
            raise
        seconds = time.perf_counter() - started
        manifest.step_finished(step.name, "completed", seconds, outputs, **extra)
        log.info("[%d/%d] %s done in %.2fs", index, len(plan.steps), step.name, seconds)
    if cache is not None:
        cache.close()
        manifest.data["cache"] = {
            "seconds_saved": round(cache.seconds_saved, 3),
            "seconds_spent": round(cache.seconds_spent, 4),
        }
    return metrics


def _context_for(context: RunContext, step: Step) -> RunContext:
    return RunContext(**{**context.__dict__, "step": step.name})


def _run_step(step: Step, hub: DataHub, context: RunContext, metrics: Metrics) -> list[Output]:
    config = build_config(step, hub)
    try:
        with os_exit_refused():
            return store_result(step, hub, call_plugin(step, config, hub, context, metrics))
    except StepError:
        raise
    except SystemExit as exc:  # sys.exit in a plugin: its step fails, the command goes on
        raise exit_step_error(exc, step.name, step.spec.name, step.spec.where) from exc
    except Exception as exc:
        # A plugin returning a generator runs while its output is saved, inside a handler:
        # whatever its own code raised is the step's failure, not the handler's.
        cause = _plugin_error(exc, step)
        if cause is None:
            raise
        if isinstance(cause, NexusError):
            raise StepError(f"step '{step.name}' failed: {cause.message}", cause.details) from exc
        raise StepError(
            f"step '{step.name}' failed: {type(cause).__name__}: {cause}",
            [_plugin_frame(cause, step)],
        ) from exc


def call_plugin(
    step: Step, config: Any, hub: DataHub, context: RunContext, metrics: Metrics
) -> Any:
    """Call the step's plugin with what its signature asked for at registration."""
    logger = step_logger(step.name)
    services = Services(
        config=config,
        logger=logger,
        hub=hub,
        context=context,
        metrics=metrics,
        progress=_progress(step, context, logger),
    )
    return step.spec.func(**services.arguments(step.spec.injections))


def _progress(step: Step, context: RunContext, logger: logging.Logger) -> Progress:
    """A sweep's jobs may run side by side: their lines name the job, and none is redrawn."""
    if context.sweep_job is None:
        return Progress(step.name, logger)
    return Progress(f"#{context.sweep_job} {step.name}", logger, live=False)


def build_config(
    step: Step, hub: DataHub, fix: str = "check the case's io_mapping names the right files"
) -> Any:
    """The step's config model validated from its parameters and the hub's data (or None).

    `fix` is the last line of the error when the inputs do not fit the model.
    """
    model = step.spec.config_model
    if model is None:
        return None
    reads = step.reads()
    data = {field: hub.get(name) for field, name in reads.items() if name in hub}
    for field, marker in step.spec.sources.items():
        if field in data:
            _check_columns(step, marker, reads[field], data[field], hub)
    try:
        return model.model_validate({**step.params, **data})
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(
            f"the inputs of step '{step.name}' do not fit {model.__name__}",
            [*lines, fix],
        ) from exc


def _check_columns(step: Step, marker: DataSource, name: str, data: Any, hub: DataHub) -> None:
    """A table input (the case's `name`) must have the columns its DataSource names."""
    if not marker.columns or not hasattr(data, "columns"):
        return
    found = [str(c) for c in data.columns]
    missing = [c for c in marker.columns if c not in found]
    if missing:
        from_file = name in hub.names  # else given in memory (nexus.testing.run_plugin)
        raise DataError(
            f"input '{name}' of step '{step.name}' lacks the column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}",
            [
                f"file: {hub.path(name)}" if from_file else "",
                f"expected: {', '.join(marker.columns)}",
                f"found: {', '.join(found) or '(no columns)'}",
                "fix the file, or map the name to another file in the case's io_mapping"
                if from_file
                else "",
            ],
        )


def store_result(step: Step, hub: DataHub, result: Any) -> list[Output]:
    """Save what the step returned to its sink (kept in memory when the hub has no file for it)."""
    name = step.produces
    if name is None:
        if result is not None:
            log.debug(
                "step '%s' returned %s but declares no sink", step.name, type(result).__name__
            )
        return []
    if result is None:
        raise StepError(
            f"step '{step.name}' returned nothing, but declares the output '{name}'",
            [f"defined at {step.spec.where}", "return the data to save"],
        )
    if name not in hub:  # nexus.testing runs a plugin without an io_mapping: keep it in memory
        hub.put(name, result)
        return []
    entry = hub.entry(name)
    path = hub.save(name, result)
    if entry.implied:
        log.info(
            "'%s' is not in the io_mapping: saved to %s (handler %s, from its type)",
            name,
            path,
            entry.handler.name,
        )
    return [Output(name, path, entry.handler.name)]


def _plugin_error(exc: BaseException, step: Step) -> BaseException | None:
    """The exception in `exc`'s chain that the plugin's own code raised or passed on."""
    current: BaseException | None = exc
    while current is not None:
        frames = traceback.extract_tb(current.__traceback__)
        if any(f.filename == step.spec.file for f in frames):
            return current
        current = current.__cause__ or current.__context__
    return None


def _plugin_frame(exc: BaseException, step: Step) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == step.spec.file]
    if not frames:
        return f"plugin defined at {step.spec.where}"
    last = frames[-1]
    return f"at {last.filename}:{last.lineno}: {(last.line or '').strip()}"
