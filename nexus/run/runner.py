"""Running a plan: build each step's config, inject what it asks for, save what it returns."""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

from pydantic import ValidationError

from nexus.core.context import Metrics, RunContext
from nexus.core.hub import DataHub
from nexus.core.markers import DataSource
from nexus.core.progress import Progress
from nexus.errors import ConfigError, DataError, NexusError, StepError
from nexus.run.manifest import Manifest, Output
from nexus.run.plan import Plan, Step

__all__ = ["build_config", "call_plugin", "run_plan", "step_logger", "store_result"]

log = logging.getLogger("nexus.run.runner")


def step_logger(step: str) -> logging.Logger:
    """The logger a step receives: a child of `nexus`, so it reaches the console and the log."""
    return logging.getLogger("nexus.step." + step.lower().replace(" ", "_"))


def run_plan(plan: Plan, hub: DataHub, context: RunContext, manifest: Manifest) -> Metrics:
    """Run the plan's steps in order; a failing step stops the run with a StepError."""
    metrics = Metrics()
    for index, step in enumerate(plan.steps, start=1):
        log.info("[%d/%d] %s", index, len(plan.steps), step.name)
        manifest.step_started(step.name)
        started = time.perf_counter()
        try:
            outputs = _run_step(step, hub, _context_for(context, step), metrics)
        except BaseException:
            manifest.step_finished(step.name, "failed", time.perf_counter() - started)
            raise
        seconds = time.perf_counter() - started
        manifest.step_finished(step.name, "completed", seconds, outputs)
        log.info("[%d/%d] %s done in %.2fs", index, len(plan.steps), step.name, seconds)
    return metrics


def _context_for(context: RunContext, step: Step) -> RunContext:
    return RunContext(**{**context.__dict__, "step": step.name})


def _run_step(step: Step, hub: DataHub, context: RunContext, metrics: Metrics) -> list[Output]:
    config = build_config(step, hub)
    try:
        return store_result(step, hub, call_plugin(step, config, hub, context, metrics))
    except StepError:
        raise
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
    services: dict[str, Any] = {
        "config": config,
        "logger": logger,
        "hub": hub,
        "context": context,
        "metrics": metrics,
        "progress": Progress(step.name, logger),
    }
    kwargs = {param: services[service] for param, service in step.spec.injections.items()}
    return step.spec.func(**kwargs)


def build_config(
    step: Step, hub: DataHub, fix: str = "check the case's io_mapping names the right files"
) -> Any:
    """The step's config model validated from its parameters and the hub's data (or None).

    `fix` is the last line of the error when the inputs do not fit the model.
    """
    model = step.spec.config_model
    if model is None:
        return None
    data = {
        field: hub.get(marker.name)
        for field, marker in step.spec.sources.items()
        if marker.name in hub
    }
    for field, marker in step.spec.sources.items():
        if field in data:
            _check_columns(step, marker, data[field], hub)
    try:
        return model.model_validate({**step.params, **data})
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(
            f"the inputs of step '{step.name}' do not fit {model.__name__}",
            [*lines, fix],
        ) from exc


def _check_columns(step: Step, marker: DataSource, data: Any, hub: DataHub) -> None:
    """A table input must have the columns its DataSource names."""
    if not marker.columns or not hasattr(data, "columns"):
        return
    found = [str(c) for c in data.columns]
    missing = [c for c in marker.columns if c not in found]
    if missing:
        raise DataError(
            f"input '{marker.name}' of step '{step.name}' lacks the column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}",
            [
                f"file: {hub.path(marker.name)}",
                f"expected: {', '.join(marker.columns)}",
                f"found: {', '.join(found) or '(no columns)'}",
                "fix the file, or map the name to another file in the case's io_mapping",
            ],
        )


def store_result(step: Step, hub: DataHub, result: Any) -> list[Output]:
    """Save what the step returned to its sink (kept in memory when the hub has no file for it)."""
    sink = step.spec.sink
    if sink is None:
        if result is not None:
            log.debug(
                "step '%s' returned %s but declares no sink", step.name, type(result).__name__
            )
        return []
    name = sink[1].name
    if result is None:
        raise StepError(
            f"step '{step.name}' returned nothing, but declares the output '{name}'",
            [f"defined at {step.spec.where}", "return the data to save"],
        )
    if name not in hub:  # nexus.testing runs a plugin without an io_mapping: keep it in memory
        hub.put(name, result)
        return []
    return [Output(name, hub.save(name, result), hub.entry(name).handler.name)]


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
