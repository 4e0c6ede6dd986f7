"""The process-level speed-ups of `python -m nexus`, in one place; `NEXUS_NO_SPEEDUPS=1` turns
all of them off.

Each is kept because `bench/speedups.py` measured it (figures in bench/README.md):

- `helper`: MLflow's calls go to a helper process forked first thing, which imports mlflow
  on the core that nexus's start-up leaves idle (see `nexus.tracking.helper`). Off: the
  calls are made in the nexus process.
- `fast_exit`: the command ends with `os._exit` once threads are joined, the exit handlers
  have run and the streams are flushed, skipping the teardown that frees every object one by
  one. Off: `sys.exit`.
- `gc_freeze`: the objects that live as long as the command (modules, plugins) are frozen
  once they are loaded, so the collector's full passes skip them and forked render workers
  share their pages. Off: the collector sees everything.

`NEXUS_NO_SPEEDUPS` is `1` (all off) or a comma-separated list of the names above (those
off), which is how the benchmark measures each one alone.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from nexus.tracking.helper import Helper

__all__ = ["SPEEDUPS", "SWITCH", "enabled", "exit_now", "objects_frozen", "start_helper"]

SWITCH = "NEXUS_NO_SPEEDUPS"
SPEEDUPS = ("helper", "fast_exit", "gc_freeze")


def enabled(name: str) -> bool:
    """Whether the speed-up `name` is on (see `SWITCH`)."""
    value = os.environ.get(SWITCH, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return True
    if value in ("1", "true", "yes", "all"):
        return False
    return name not in {part.strip() for part in value.split(",")}


def start_helper() -> Helper | None:
    """Fork MLflow's helper process, unless switched off or impossible (no `os.fork`).

    Call it before anything starts threads (it forks): first thing in the entry point.
    """
    if not enabled("helper"):
        return None
    from nexus.tracking.helper import fork_helper

    return fork_helper()


def exit_now(code: int) -> NoReturn:
    """End the process as a normal exit would (threads, exit handlers, streams), but at once."""
    if not enabled("fast_exit"):
        # The interpreter's teardown puts Ctrl-C back to its default, which would kill the
        # process mid-exit: the command is over, so it is ignored from here on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.exit(code)
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)  # joins threads, as at a normal exit
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def objects_frozen() -> Iterator[None]:
    """Exempt what exists now from garbage collection until the block ends.

    Used once, around the Hydra app, once the plugins are loaded: freezing is not nested
    (`gc.unfreeze` thaws everything, not just what the inner block froze). Unfrozen at the
    end, so that nexus called as a library leaves nothing uncollectable.
    """
    if not enabled("gc_freeze") or gc.get_freeze_count():
        yield  # off, or someone froze already: theirs to thaw
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
