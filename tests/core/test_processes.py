"""A worker that asks to end with its parent ends when the parent is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# A parent that forks a worker (which asks for `signum` on the parent's death, or not),
# prints the worker's pid, and waits to be killed.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from nexus import end_with_parent
    ask = sys.argv[1] == "ask"
    pid = os.fork()
    if pid == 0:
        if ask:
            end_with_parent(int(sys.argv[2]))
        time.sleep(60)
        os._exit(0)
    print(pid, flush=True)
    time.sleep(60)
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
@pytest.mark.parametrize(
    ("ask", "signum", "ends"),
    [
        pytest.param("ask", signal.SIGKILL, True, id="sigkill"),
        pytest.param("ask", signal.SIGTERM, True, id="sigterm"),
        pytest.param("no", signal.SIGKILL, False, id="not-asked"),
    ],
)
def test_a_worker_ends_with_its_killed_parent_only_if_it_asked(
    ask: str, signum: int, ends: bool
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, ask, str(int(signum))],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ":".join(sys.path)},
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    time.sleep(0.5)  # the worker has asked by now
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 5
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert _alive(worker) is not ends
    finally:
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)
