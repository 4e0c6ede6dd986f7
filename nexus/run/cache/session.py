"""One run's use of the cache: decide per step (hit, miss, ...), reuse or compute, record."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus.core.context import Metrics
from nexus.core.hub import DataEntry, DataHub
from nexus.run.cache.code import CodeScan
from nexus.run.cache.explain import differences
from nexus.run.cache.hashing import FileHash, HashMemo, content_hash
from nexus.run.cache.key import Uncacheable, canonical, key_of, step_record
from nexus.run.cache.report import Decision, announce
from nexus.run.cache.store import Index, check, place, protect
from nexus.run.manifest import Output

if TYPE_CHECKING:
    from nexus.run.plan import Step  # the plan imports the cache (for only=): no cycle at run time

__all__ = ["CacheSession"]

log = logging.getLogger("nexus.run.cache")


class CacheSession:
    """The cache as one run sees it: the index, the hashes of this run's data, the decisions.

    `producers` maps each logical name a step of the plan writes to that step's name.
    """

    def __init__(
        self,
        outputs: Path,
        project_root: Path,
        run_dir: Path,
        producers: dict[str, str],
        enabled: bool = True,
        rerun: Iterable[str] = (),
    ) -> None:
        self.index = Index(outputs)
        self.project_root = project_root
        self.run_dir = run_dir
        self.producers = dict(producers)
        self.enabled = enabled
        self.rerun = set(rerun)
        self.memo = HashMemo.load(self.index.root / "memo.json") if enabled else HashMemo()
        self.code = CodeScan(project_root.resolve(), self.index.root / "code-memo.json")
        self.hashes: dict[str, str] = {}  # logical name -> content hash, of this run's outputs
        self.computed: set[str] = set()  # steps that ran (not reused) in this run
        self.refreshed: set[str] = set()
        self.seconds_saved = 0.0
        self.seconds_spent = 0.0  # deciding, hashing, recording and placing: the cache's cost
        self._computing = 0.0  # time inside the steps' own computation

    # -- deciding -------------------------------------------------------------------------

    def decide(self, step: Step, hub: DataHub) -> Decision:
        """Hit, miss, off, refresh or uncacheable, with the key record and the reasons."""
        if not self.enabled:
            return Decision(step.name, "off", reasons=["cache=false"])
        try:
            record = self.record(step, hub)
        except Uncacheable as exc:
            return Decision(step.name, "uncacheable", reasons=[str(exc)])
        key = key_of(record)
        upstream = sorted(self.refreshed & set(self._upstream(step)))
        if step.name in self.rerun or upstream:
            self.refreshed.add(step.name)
            why = "rerun= names it" if step.name in self.rerun else f"{upstream[0]} is rerun"
            return Decision(step.name, "refresh", key, record, reasons=[why])
        return self.look_up(step.name, key, record)

    def look_up(self, step: str, key: str, record: dict[str, Any]) -> Decision:
        """A hit from the newest usable holder of `key`, else a miss saying why."""
        problems = []
        for holder in self.index.holders(step, key):
            problem = check(holder)
            if problem is None:
                return Decision(step, "hit", key, record, holder)
            problems.append(problem)
        changed = {n: p for n, p in self.producers.items() if p in self.computed}
        reasons = problems or self._why(step, record, changed)
        return Decision(step, "miss", key, record, reasons=reasons)

    def _why(self, step: str, record: dict[str, Any], producers: dict[str, str]) -> list[str]:
        """The differences from the closest earlier record of the step (fewest, then newest)."""
        found = [
            differences(old.get("record"), record, producers) for old in self.index.recent(step)
        ]
        return min(found, key=len) if found else differences(None, record)

    def record(self, step: Step, hub: DataHub, pending: dict[str, str] | None = None) -> dict:
        """The step's key record. `pending`: inputs not made yet, by the step that makes them.

        Raises:
            Uncacheable: the step cannot be keyed safely (see its message).
        """
        spec = step.spec
        if spec.cache is False:
            raise Uncacheable("its plugin says cache=False: it runs every time")
        injected = sorted({"hub", "context"} & set(spec.injections.values()))
        if spec.cache is None and injected:
            raise Uncacheable(
                f"it asks for {' and '.join(injected)}, so it may read files nexus does not "
                "see; @plugin(..., cache=True) says it reads only its inputs"
            )
        modules = [spec.func.__module__]
        inputs: dict[str, Any] = {}
        reads = step.reads()  # config field -> the case's name, as the case wires it
        for field_name, marker in spec.sources.items():
            # keyed by the plugin's name: a case that renames an input reads the same bytes
            wired = reads[field_name]
            if wired not in hub.names:
                inputs[marker.name] = None
                continue
            entry = hub.entry(wired)
            modules.append(entry.handler.cls.__module__)
            inputs[marker.name] = {
                "hash": self._input_hash(entry, pending or {}),
                "handler": entry.handler.name,
                "handler_args": _canonical_args(entry.args, wired),
            }
        sink = None
        if step.produces is not None:
            name = step.produces
            if name not in hub.names:
                raise Uncacheable(f"its output '{name}' is kept in memory, not saved")
            entry = hub.entry(name)
            modules.append(entry.handler.cls.__module__)
            sink = {
                "handler": entry.handler.name,
                "handler_args": _canonical_args(entry.args, name),
            }
        code, packages = self.code.closure(modules)
        return step_record(spec, step.params, code, packages, inputs, sink)

    def _input_hash(self, entry: DataEntry, pending: dict[str, str]) -> str:
        if entry.name in pending:
            return f"pending:{pending[entry.name]}"
        if entry.producer is not None:
            known = self.hashes.get(entry.name)
            if known is None:
                raise Uncacheable(f"the content of '{entry.name}' is not known")
            return known
        try:
            return content_hash(entry.path, self.memo)[0]
        except OSError as exc:
            raise Uncacheable(f"input '{entry.name}' cannot be read: {exc}") from None

    def _upstream(self, step: Step) -> list[str]:
        return [self.producers[n] for n in step.consumes if n in self.producers]

    def predict(self, steps: list[Step], hub: DataHub) -> list[Decision]:
        """What a run would do, step by step, running nothing (`python -m nexus status`)."""
        pending: dict[str, str] = {}  # outputs that will be made anew, by the step making them
        found = []
        for step in steps:
            decision = self._predict(step, hub, pending)
            if decision.status == "hit" and decision.holder:
                for name, output in decision.holder["outputs"].items():
                    self.hashes[name] = output["hash"]
            elif step.produces:
                pending[step.produces] = step.name
            found.append(decision)
        return found

    def _predict(self, step: Step, hub: DataHub, pending: dict[str, str]) -> Decision:
        waiting = {n: p for n, p in pending.items() if n in step.consumes}
        upstream = sorted(self.refreshed & set(self._upstream(step)))
        if self.enabled and (step.name in self.rerun or upstream):
            self.refreshed.add(step.name)
            why = "rerun= names it" if step.name in self.rerun else f"{upstream[0]} is rerun"
            return Decision(step.name, "refresh", reasons=[why])
        if not waiting or not self.enabled:
            return self.decide(step, hub)
        try:
            record = self.record(step, hub, waiting)
        except Uncacheable as exc:
            return Decision(step.name, "uncacheable", reasons=[str(exc)])
        return Decision(
            step.name, "miss", None, record, reasons=self._why(step.name, record, waiting)
        )

    # -- running --------------------------------------------------------------------------

    def run(
        self, step: Step, hub: DataHub, metrics: Metrics, compute: Callable[[], list[Output]]
    ) -> tuple[list[Output], Decision]:
        """Reuse the step's outputs, or compute them (once across parallel jobs) and record them.

        The time this takes beyond `compute` itself is added to `seconds_spent`.
        """
        started, before = time.perf_counter(), self._computing
        try:
            return self._run(step, hub, metrics, compute)
        finally:
            spent = time.perf_counter() - started - (self._computing - before)
            self.seconds_spent += spent

    def _run(
        self, step: Step, hub: DataHub, metrics: Metrics, compute: Callable[[], list[Output]]
    ) -> tuple[list[Output], Decision]:
        decision = self.decide(step, hub)
        if decision.status == "miss" and decision.key and decision.record:
            with self.index.lock(decision.key, step.name, self._me()):
                again = self.look_up(step.name, decision.key, decision.record)
                if again.status == "hit":
                    decision = again
                else:
                    announce(decision)
                    return self._compute(step, decision, metrics, compute), decision
        if decision.status == "hit":
            try:
                outputs = self._reuse(step, decision, metrics)
            except OSError as exc:  # the origin went away meanwhile: a miss, not an error
                run = (decision.holder or {}).get("run")
                decision = replace(
                    decision,
                    status="miss",
                    holder=None,
                    reasons=[f"{run} could not be read: {exc}"],
                )
            else:
                announce(decision)
                return outputs, decision
        if decision.status != "off":  # cache=false asked for no reuse: nothing to explain
            announce(decision)
        return self._compute(step, decision, metrics, compute), decision

    def _compute(
        self, step: Step, decision: Decision, metrics: Metrics, compute: Callable[[], list[Output]]
    ) -> list[Output]:
        before = len(metrics.history)
        started = time.perf_counter()
        try:
            outputs = compute()
        finally:
            seconds = time.perf_counter() - started
            self._computing += seconds
        self.computed.add(step.name)
        if decision.status == "off":
            return outputs
        saved = {}
        for output in outputs:
            digest, files = content_hash(output.path)
            self.hashes[output.name] = digest
            saved[output.name] = {
                "path": self._relative(output.path),
                "handler": output.handler,
                "hash": digest,
                "files": [[f.path, f.size, f.mtime_ns, f.hash] for f in files],
            }
        if decision.status in ("miss", "refresh") and decision.key:
            self._warn_if_different(step.name, decision.key, saved)
            self._protect(saved)
            step_metrics = {name: value for name, value, _ in metrics.history[before:]}
            self._publish(step.name, decision, saved, seconds, step_metrics, self._shown_run())
        decision.holder = {"outputs": saved}
        return outputs

    def _warn_if_different(self, step: str, key: str, saved: dict[str, Any]) -> None:
        """Same key, other bytes: the step is not deterministic, and reusing it hides that."""
        made = {name: output["hash"] for name, output in saved.items()}
        for holder in islice(self.index.holders(step, key), 3):
            before = {name: o.get("hash") for name, o in holder.get("outputs", {}).items()}
            if before != made:
                log.warning(
                    "%s wrote other bytes than in %s with the same code, parameters and "
                    "inputs: it is not deterministic; if that is meant, mark its plugin "
                    "@plugin(..., cache=False)",
                    step,
                    holder.get("run"),
                )
                return

    def _reuse(self, step: Step, decision: Decision, metrics: Metrics) -> list[Output]:
        holder = decision.holder or {}
        decision.placed = place(holder, self.run_dir)
        for name, value in (holder.get("metrics") or {}).items():
            metrics.log(name, value)  # the objective and the sweep's summary read them
        outputs = []
        for name, output in holder["outputs"].items():
            self.hashes[name] = output["hash"]
            outputs.append(Output(name, self.run_dir / output["path"], output["handler"]))
        self.seconds_saved += float(holder.get("seconds") or 0)
        # This run holds the outputs now too: deleting the origin does not lose them.
        self._publish(
            step.name,
            decision,
            holder["outputs"],
            float(holder.get("seconds") or 0),
            holder.get("metrics") or {},
            str(holder.get("origin") or holder.get("run")),
        )
        return outputs

    def _publish(
        self,
        step: str,
        decision: Decision,
        outputs: dict[str, Any],
        seconds: float,
        step_metrics: dict[str, float],
        origin: str,
    ) -> None:
        if decision.key is None or decision.record is None:
            return
        self.index.publish(
            step,
            decision.key,
            self.run_dir,
            {
                "step": step,
                "key": decision.key,
                "record": decision.record,
                "run_dir": str(self.run_dir.resolve()),
                "run": self._shown_run(),
                "origin": origin,
                "created": time.time(),
                "seconds": round(seconds, 4),
                "metrics": step_metrics,
                "outputs": outputs,
            },
        )

    def _protect(self, saved: dict[str, Any]) -> None:
        for output in saved.values():
            root = self.run_dir / output["path"]
            protect(root, [FileHash(p, s, m, h) for p, s, m, h in output["files"]])

    def close(self) -> None:
        """Keep the hashes of unchanged inputs and code files for the next run."""
        started = time.perf_counter()
        self.memo.save()
        self.code.save()
        self.seconds_spent += time.perf_counter() - started

    def _relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.run_dir.resolve()).as_posix()

    def _shown_run(self) -> str:
        try:
            return self.run_dir.resolve().relative_to(self.project_root.resolve()).as_posix()
        except ValueError:
            return str(self.run_dir)

    def _me(self) -> str:
        kind = "job" if self.run_dir.parent.parent.name == "sweeps" else "run"
        return f"{kind} {self.run_dir.name} (pid {os.getpid()})"


def _canonical_args(args: dict[str, Any], name: str) -> Any:
    try:
        return canonical(args)
    except Uncacheable as exc:
        raise Uncacheable(f"the handler_args of '{name}' hold {exc}") from None
