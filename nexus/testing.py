"""Testing plugins: run one with in-memory data, or whole cases in a temporary project.

    from nexus.testing import run_plugin

    def test_smoother(table):
        run = run_plugin(smooth, inputs={"predicted_states": table}, params={"window": 3})
        assert run.metrics["max_speed"] < 2

`run_plugin` goes through the same code as a real run: `nexus.config.params` validates the
parameters (unknown names and pydantic constraints are errors, all reported together),
`nexus.run.runner` builds the config from the parameters and the inputs, injects what the
plugin's signature asks for, and checks its return value against its sink. Only the data
stays in memory. The plugin's own exceptions reach the test unchanged.

The `nexus_project` fixture is a temporary project whose `run(...)` is `python -m nexus ...`
in a fresh process. nexus registers this module as a pytest plugin (entry point `pytest11`),
so a test only names the fixture; `from nexus.testing import nexus_project` also works.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported when used: pytest loads this module in every test session
    from nexus.core.context import Metrics, RunContext
    from nexus.core.hub import DataHub
    from nexus.core.registry import PluginSpec, Registry

__all__ = [
    "CONFIG_YAML",
    "NexusResult",
    "PluginRun",
    "TempProject",
    "make_project",
    "nexus_project",
    "plugin_spec",
    "run_plugin",
]

#: Where run_plugin's parameters come from, as error messages name the layer.
PARAMS_LAYER = "run_plugin params"

CONFIG_YAML = """\
# A temporary nexus project, made by nexus.testing.
defaults:
  - nexus
  - plugin_defaults: ${case}
  - _self_
  - case: ???

tracking:
  enabled: false    # a test records nothing in MLflow unless it asks: tracking.enabled=true

pipeline: {}
"""


@dataclass(frozen=True)
class PluginRun:
    """What one plugin did: its return value, its metrics, and what it was called with."""

    output: Any
    metrics: Metrics
    config: Any
    context: RunContext
    hub: DataHub


def run_plugin(
    plugin: Callable[..., Any] | PluginSpec | str,
    inputs: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    run_dir: Path | None = None,
    case_dir: Path | None = None,
    registry: Registry | None = None,
) -> PluginRun:
    """Run one plugin as a step of a real run would, with its data in memory.

    Args:
        plugin: the function marked with `@plugin`, its PluginSpec, or its name (looked up
            in `registry`, by default the registry of the project around the current dir).
        inputs: data by logical name, as the case's io_mapping names it.
        params: parameters by name, as `pipeline:` gives them.
        run_dir: the run directory the plugin's context names (default: a new temporary one).
        case_dir: the case directory of its context (default: `run_dir`).

    Raises:
        ConfigError: the parameters or the inputs do not fit the plugin's config model.
        StepError: the plugin returned nothing although it declares an output.
    """
    from nexus.core.context import Metrics, RunContext
    from nexus.core.hub import DataHub
    from nexus.run.plan import Step
    from nexus.run.runner import build_config, call_plugin, store_result

    spec = plugin_spec(plugin, registry)
    given = dict(inputs or {})
    _check_inputs(spec, given)
    step = Step(spec.name, spec, _validated_params(spec, dict(params or {})))
    run_dir = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="nexus-"))
    hub = DataHub({}, run_dir)
    for name, value in given.items():
        hub.put(name, value)
    config = build_config(step, hub, fix=f"pass them in inputs=, by logical name: {_inputs(spec)}")
    case_dir = Path(case_dir) if case_dir is not None else run_dir
    context = RunContext(run_dir, case_dir, case_dir, run_dir.name, "run_plugin", spec.name)
    metrics = Metrics()
    output = call_plugin(step, config, hub, context, metrics)
    store_result(step, hub, output)
    return PluginRun(output, metrics, config, context, hub)


def plugin_spec(plugin: Any, registry: Registry | None = None) -> PluginSpec:
    """The PluginSpec of a `@plugin` function, of a spec, or of a name in `registry`."""
    from nexus.core.registry import PLUGIN_MARK, PluginSpec
    from nexus.errors import PluginError

    if isinstance(plugin, PluginSpec):
        return plugin
    if isinstance(plugin, str):
        if registry is None:
            from nexus.config.catalog import load_catalog

            registry = load_catalog().registry
        return registry.plugin_named(plugin, "given to run_plugin()")
    spec = getattr(plugin, PLUGIN_MARK, None)
    if isinstance(spec, PluginSpec):
        return spec
    raise PluginError(
        f"run_plugin() needs a plugin, got '{getattr(plugin, '__name__', plugin)}'",
        ["pass the function marked with @plugin(...), its name, or its PluginSpec"],
    )


def _validated_params(spec: PluginSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters checked by nexus.config.params, as a real run checks `pipeline:`."""
    from omegaconf import OmegaConf

    from nexus.config.params import Layers, step_parameters
    from nexus.core.registry import Registry
    from nexus.errors import ConfigError, problems

    _check_config_values(spec, params)
    cfg = OmegaConf.create(
        {"case": {"name": spec.name, "steps": [spec.name], "step_config": {}}, "pipeline": params}
    )
    layers = Layers(case_file=PARAMS_LAYER, case_keys=frozenset(params))
    try:
        return step_parameters(cfg, Registry(plugins={spec.name: spec}), layers)[spec.name]
    except ConfigError as exc:
        # The last line of a run's message says how to fix a case file; here it is params=.
        lines = [line for line in exc.details if not line.startswith("fix them in the file")]
        raise ConfigError(
            f"{problems(len(lines), 'invalid parameter')} for plugin '{spec.name}'",
            [*lines, "fix the params= given to run_plugin()"],
        ) from exc


def _check_config_values(spec: PluginSpec, params: dict[str, Any]) -> None:
    """A real run's parameters come from YAML and the command line: config values only."""
    from omegaconf import OmegaConf

    from nexus.errors import ConfigError, problems

    bad = []
    for key, value in params.items():
        try:
            OmegaConf.create({key: value})
        except Exception:  # omegaconf's UnsupportedValueType, or a key it cannot hold
            bad.append(f"{key} = {type(value).__name__}: not a value a config can hold")
    if bad:
        raise ConfigError(
            f"{problems(len(bad), 'parameter')} of plugin '{spec.name}' cannot come from a config",
            [
                *bad,
                "parameters are numbers, strings, booleans, lists and mappings of them",
                f"pass data in inputs=, by logical name: {_inputs(spec)}",
            ],
        )


def _check_inputs(spec: PluginSpec, given: dict[str, Any]) -> None:
    """Every input must be a logical name the plugin reads (any name, when it asks for the hub)."""
    from nexus.errors import ConfigError, did_you_mean, problems

    if "hub" in spec.injections.values():
        return
    fields = {field: marker.name for field, marker in spec.sources.items()}
    lines = []
    for name in (n for n in given if n not in spec.consumes):
        if name in fields:
            hint = f"'{name}' is a config field: its logical name is '{fields[name]}'"
        elif spec.sink is not None and name in (spec.sink[0], spec.produces):
            hint = f"the plugin writes '{spec.produces}'; it is its output, not an input"
        else:
            hint = did_you_mean(name, spec.consumes)
        lines.append(f"'{name}'" + (f": {hint}" if hint else ""))
    if lines:
        raise ConfigError(
            f"{problems(len(lines), 'unknown input')} for plugin '{spec.name}'",
            [*lines, f"its inputs, by logical name: {_inputs(spec)}"],
        )


def _inputs(spec: PluginSpec) -> str:
    model = spec.config_model
    names = [
        f"{marker.name} (required)"
        if model is not None and model.model_fields[field].is_required()
        else marker.name
        for field, marker in spec.sources.items()
    ]
    return ", ".join(names) or "(none)"


@dataclass(frozen=True)
class NexusResult:
    """A finished `python -m nexus ...`: exit code, output, and the run directories it made."""

    code: int
    stdout: str
    stderr: str
    run_dirs: list[Path] = field(default_factory=list)

    @property
    def run_dir(self) -> Path:
        """The one run directory the command created."""
        if len(self.run_dirs) != 1:
            raise AssertionError(f"expected one new run directory, found {self.run_dirs}")
        return self.run_dirs[0]

    @property
    def manifest(self) -> dict[str, Any]:
        """The run's `run.json`."""
        import json

        return dict(json.loads((self.run_dir / "run.json").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class TempProject:
    """A nexus project in a temporary folder: write its files, run nexus in it."""

    root: Path

    def write(self, relative: str, text: str) -> Path:
        """Write `text` (dedented) to a file of the project; returns its path."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def case(self, name: str, text: str) -> Path:
        """Write `cases/<name>/case.yaml`."""
        return self.write(f"cases/{name}/case.yaml", text)

    def copy(self, source: str | Path, relative: str | None = None) -> Path:
        """Copy a file or folder (e.g. your `plugins`, a case) into the project; returns it.

        `relative` defaults to `source` itself, so `copy("cases/demo")` lands in the same
        place (an absolute `source` lands at the top, by its name); a folder is merged into
        what is there.
        """
        source = Path(source)
        default = Path(source.name) if source.is_absolute() else source
        target = self.root / (relative if relative is not None else default)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", ".*")
            shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        return target

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> NexusResult:
        """`python -m nexus ARGS` in the project, in a new process; `check`: it must succeed."""
        before = self._run_dirs()
        done = subprocess.run(
            [sys.executable, "-m", "nexus", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            check=False,
        )
        result = NexusResult(
            done.returncode, done.stdout, done.stderr, sorted(self._run_dirs() - before)
        )
        if check and result.code != 0:
            raise AssertionError(
                f"python -m nexus {' '.join(args)} exited {result.code}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def _run_dirs(self) -> set[Path]:
        return {p.parent for p in (self.root / "outputs").rglob("run.json")}


def make_project(root: Path) -> TempProject:
    """Create a project at `root`: `conf/config.yaml` (tracking off), `cases/`, `plugins/`."""
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "config.yaml").write_text(CONFIG_YAML, encoding="utf-8")
    (root / "cases").mkdir()
    (root / "plugins").mkdir()
    return TempProject(root)


@pytest.fixture
def nexus_project(tmp_path: Path) -> TempProject:
    """A new, empty nexus project in `tmp_path / "project"`."""
    return make_project(tmp_path / "project")
