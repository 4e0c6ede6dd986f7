"""Processes that end with the process that started them."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

__all__ = ["end_with_parent", "interrupt_when_parent_dies"]

_PR_SET_PDEATHSIG = 1  # prctl(2)


def end_with_parent(signum: int = signal.SIGKILL) -> bool:
    """Have the kernel send this process `signum` when its parent dies (Linux); False elsewhere.

    For worker processes: without it, a worker whose parent was killed outright (SIGKILL, the
    out-of-memory killer) lives on. If the parent is gone already, `signum` is sent now.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    parent = os.getppid()
    with contextlib.suppress(OSError):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0:
            if os.getppid() != parent:  # it died before the call
                os.kill(os.getpid(), signum)
            return True
    return False


def interrupt_when_parent_dies(grace_s: float, signum: int = signal.SIGTERM) -> None:
    """Once this process's parent is gone, send `signum` to its main thread; exit `grace_s` later.

    For a worker that must clean up (end its MLflow run, finish its run.json): the signal's
    handler does that. It goes to the main thread itself, so that a blocking call there (a
    step's sleep or read) is interrupted: a signal sent to the process may reach another
    thread and wake nothing. Started once per process; later calls do nothing.
    """
    name = "nexus-parent-watch"
    if any(thread.name == name for thread in threading.enumerate()):
        return
    parent, main = os.getppid(), threading.main_thread().ident
    threading.Thread(
        target=_watch, args=(parent, main, signum, grace_s), name=name, daemon=True
    ).start()


def _watch(parent: int, main: int | None, signum: int, grace_s: float) -> None:
    while os.getppid() == parent:
        time.sleep(0.1)
    if main is not None:
        with contextlib.suppress(ProcessLookupError):
            signal.pthread_kill(main, signum)
    time.sleep(grace_s)
    os._exit(1)
