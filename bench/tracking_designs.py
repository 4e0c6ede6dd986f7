"""What loading mlflow in the background would save: two designs, prototyped by patching.

    python bench/tracking_designs.py [--repeat N]

Evidence for a design choice, not a product: each variant patches nexus.tracking in the
process it runs (`--as VARIANT ARGS` is that process's entry), so it may need updating when
tracking.py changes. All variants end with bench/fast_exit.py's ending, so that the
interpreter's teardown (~0.8 s with mlflow loaded) does not hide the difference.

- `now`: nexus as it is: the store is opened (mlflow imported) in on_run_start.
- `thread`: mlflow imported in a thread started in on_run_start, joined when the store is
  opened in on_job_start (the first use). Hydra's job set-up is all that runs meanwhile.
- `deferred`: on_job_start hands opening the store, creating the run and logging its params
  to a thread, so mlflow loads while the steps run; on_job_end joins it. The run id reaches
  run.json only when the job ends (nexus would need the Manifest to take it later).
- `process`: a helper process, forked first thing (only the standard library loaded),
  imports mlflow on the otherwise idle core while nexus starts, and makes the MLflow calls
  the callback sends it through a pipe; nexus itself never imports mlflow. Run ids come
  back as before, so run.json is unchanged.
- `process+deferred`: both: the helper process, and the callback not waiting for it until
  the job ends.
- `off`: tracking.enabled=false.
"""

from __future__ import annotations

import argparse
import atexit
import os
import statistics
import sys
import threading
from pathlib import Path
from typing import Any

VARIANTS = ("now", "thread", "deferred", "process", "process+deferred", "off")


def main() -> None:
    from common import machine, repeat, run, scaled_project, spread

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    print(machine())

    def command(variant: str) -> list[str]:
        extra = ["tracking.enabled=false"] if variant == "off" else []
        return [sys.executable, __file__, "--as", variant, "case=demo", *extra]

    with scaled_project() as project:
        run(command("now"), project)  # creates the store
        results = repeat(options.repeat, *(lambda v=v: run(command(v), project) for v in VARIANTS))
    print(f"\n{'demo run, store existing':28s} wall s, median (min-max)   CPU s")
    for variant, samples in zip(VARIANTS, results, strict=True):
        cpu = statistics.median(s.cpu for s in samples)
        print(f"{variant:28s} {spread([s.wall for s in samples]):26s} {cpu:.2f}")


def as_variant(variant: str, args: list[str]) -> None:
    helper = _start_helper() if variant.startswith("process") else None
    import nexus.mlflow_store as store
    import nexus.tracking as tracking
    from nexus.cli import main as nexus_main

    callback = tracking.TrackingCallback
    if variant == "thread":
        loading: dict[str, threading.Thread] = {}

        def load() -> None:
            import mlflow.store.tracking.sqlalchemy_store
            import mlflow.tracking  # noqa: F401

        def on_run_start(self: Any, config: Any, **kwargs: Any) -> None:
            if tracking._enabled(config):
                loading["mlflow"] = threading.Thread(target=load, daemon=True)
                loading["mlflow"].start()

        opening = store.Store.__init__

        def open_store(self: Any, *a: Any, **k: Any) -> None:
            if "mlflow" in loading:
                loading["mlflow"].join()
            opening(self, *a, **k)

        callback.on_run_start = on_run_start  # type: ignore[method-assign]
        store.Store.__init__ = open_store  # type: ignore[method-assign]
    if variant.endswith("deferred"):
        from nexus.rundirs import update_manifest

        job_start, job_end = callback.on_job_start, callback.on_job_end

        def on_job_start_later(self: Any, config: Any, **kwargs: Any) -> None:
            if tracking._enabled(config):
                self.pending = threading.Thread(target=job_start, args=(self, config), daemon=True)
                self.pending.start()

        def on_job_end_joined(self: Any, config: Any, job_return: Any, **kwargs: Any) -> None:
            pending = getattr(self, "pending", None)
            if pending is None:
                return
            pending.join()
            run_id = self.run_id
            job_end(self, config, job_return)
            update_manifest(Path(config.hydra.runtime.output_dir), mlflow_run_id=run_id)

        callback.on_run_start = lambda self, config, **kwargs: None  # type: ignore[method-assign]
        callback.on_job_start = on_job_start_later  # type: ignore[method-assign]
        callback.on_job_end = on_job_end_joined  # type: ignore[method-assign]
    if helper is not None:
        _use_helper(tracking, helper)
    code = nexus_main(args)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _start_helper() -> Any:
    """Fork a process that imports mlflow now and then serves MLflow calls; our pipe's end."""
    from multiprocessing import Pipe

    ours, theirs = Pipe()
    pid = os.fork()
    if pid != 0:
        theirs.close()

        def reap() -> None:  # at exit, so that its CPU time counts (run() takes it from wait4)
            ours.close()
            os.waitpid(pid, 0)

        atexit.register(reap)
        return ours
    ours.close()
    import mlflow.tracking  # noqa: F401  (the point: on the idle core, while nexus starts)
    from mlflow.entities import Metric, Param

    from nexus.mlflow_store import Store

    stores: dict[str, Any] = {}
    while True:
        try:
            op, payload = theirs.recv()
        except EOFError:
            os._exit(0)
        try:
            if op == "open":
                uri, root = payload
                stores.setdefault(uri, Store(uri, Path(root)))
                result: Any = None
            elif op == "experiment":
                uri, name = payload
                result = stores[uri].experiment_id(name)
            else:
                uri, method, a, k = payload
                if "params" in k:
                    k["params"] = [Param(*x) for x in k["params"]]
                if "metrics" in k:
                    k["metrics"] = [Metric(*x) for x in k["metrics"]]
                result = stores[uri].call(getattr(stores[uri].client, method), *a, **k)
                if method == "create_run":
                    result = result.info.run_id
            theirs.send((True, result))
        except Exception as exc:
            theirs.send((False, repr(exc)))


def _use_helper(tracking: Any, pipe: Any) -> None:
    """Point nexus.tracking at the helper: a Store stand-in, and entities as plain tuples."""
    from types import SimpleNamespace

    def ask(op: str, payload: Any) -> Any:
        pipe.send((op, payload))
        ok, result = pipe.recv()
        if not ok:
            raise RuntimeError(result)
        return result

    class RemoteStore:
        def __init__(self, uri: str, root: Path) -> None:
            self.uri = uri
            ask("open", (uri, str(root)))
            self.client = SimpleNamespace(
                **{
                    m: m
                    for m in (
                        "create_run",
                        "log_batch",
                        "log_artifact",
                        "log_artifacts",
                        "set_terminated",
                        "get_run",
                    )
                }
            )

        def experiment_id(self, name: str) -> str:
            return ask("experiment", (self.uri, name))

        def call(self, method: str, *a: Any, **k: Any) -> Any:
            result = ask("call", (self.uri, method, a, k))
            if method == "create_run":
                return SimpleNamespace(info=SimpleNamespace(run_id=result))
            return result

    def log_params(store: Any, run_id: str, config: Any) -> None:
        from omegaconf import OmegaConf

        pipeline = OmegaConf.to_container(config.pipeline, resolve=True) or {}
        values = {
            **tracking._flatten(pipeline, "pipeline"),
            "case": config.case.name,
            "steps": ", ".join(config.case.steps),
            "only": config.get("only"),
        }
        params = [(k, tracking._short(v)) for k, v in sorted(values.items())]
        store.call("log_batch", run_id, params=params)

    def log_results(store: Any, run_id: str, manifest: dict[str, Any]) -> None:
        import time

        values = dict(manifest.get("metrics") or {})
        for step in manifest.get("steps", []):
            if step.get("seconds") is not None:
                values[f"seconds.{tracking._slug(step['name'])}"] = step["seconds"]
        now = int(time.time() * 1000)
        metrics = [(k, float(v), now, 0) for k, v in values.items()]
        if metrics:
            store.call("log_batch", run_id, metrics=metrics)

    tracking.Store = RemoteStore
    tracking._log_params = log_params
    tracking._log_results = log_results


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--as":
        as_variant(sys.argv[2], sys.argv[3:])
    else:
        main()
