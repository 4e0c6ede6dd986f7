"""The framework's own time in one demo run, measured inside the process.

    python bench/framework_time.py [PROJECT]   (run by bench/overhead.py; prints JSON)

First imports what the steps need (pandas, pyarrow, matplotlib, PIL, the plugin modules),
which a framework cannot avoid; then times `python -m nexus case=demo tracking.enabled=false`
in this process. Framework = that total minus the time inside the steps. Its parts are timed
by wrapping the functions that do them; a name another version of nexus lacks is skipped.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

project = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
os.chdir(project)
sys.path.insert(0, str(project))
spent: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)

# What a framework cannot save: the steps' own imports.
started = time.perf_counter()
for name in ("pandas", "pyarrow.parquet", "PIL.Image", "imageio_ffmpeg"):
    importlib.import_module(name)
for name in ("compensator", "renderer", "video", "data_generator"):
    importlib.import_module(f"plugins.demo.{name}")
for name in ("matplotlib.backends.backend_agg", "matplotlib.figure", "matplotlib.collections"):
    importlib.import_module(name)
step_imports = time.perf_counter() - started

# The framework's imports are its own cost: timed, then counted in.
started = time.perf_counter()
import hydra  # noqa: E402, F401
from hydra.core.global_hydra import GlobalHydra  # noqa: E402, F401

import nexus.app.task  # noqa: E402
import nexus.cli.main  # noqa: E402

spent["import hydra and nexus"] = time.perf_counter() - started


def timed(label: str, module: str, attr: str, owner: str | None = None) -> None:
    """Wrap `module.[owner.]attr` so that its calls add to spent[label]."""
    try:
        holder: Any = importlib.import_module(module)
        if owner:
            holder = getattr(holder, owner)
        original: Callable[..., Any] = getattr(holder, attr)
    except (ImportError, AttributeError):
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        begun = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - begun
            calls[label] += 1

    setattr(holder, attr, wrapper)


timed("steps (their own work)", "nexus.run.runner", "_run_step")
timed("discovery", "nexus.core.discovery", "discover")
timed("discovery", "nexus.app.task", "discover")
timed("config stores", "nexus.config.compose", "register_configs")
timed(
    "hydra compose", "hydra._internal.config_loader_impl", "load_configuration", "ConfigLoaderImpl"
)
timed("validate + plan (prepare)", "nexus.app.task", "prepare")
timed("manifest writes", "nexus.run.rundirs", "write_manifest")
timed("manifest writes", "nexus.run.manifest", "write_manifest")
timed("git version", "nexus.run.manifest", "code_version")
timed("git version", "nexus.app.task", "code_version")
timed("hydra plugin scan", "hydra.core.plugins", "_initialize", "Plugins")
timed("hydra job files + logging", "hydra.core.utils", "_save_config")
timed("hydra job files + logging", "hydra.core.utils", "configure_log")

started = time.perf_counter()
code = nexus.cli.main(["case=demo", "tracking.enabled=false"])
total = time.perf_counter() - started
steps = spent.pop("steps (their own work)", 0.0)
print(
    json.dumps(
        {
            "exit_code": code,
            "step_imports_s": step_imports,
            "framework_s": total - steps + spent["import hydra and nexus"],
            "steps_s": steps,
            "parts_s": dict(spent),
            "calls": dict(calls),
        }
    )
)
