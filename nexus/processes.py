"""Processes that end with the process that started them."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

__all__ = ["end_with_parent"]

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
