"""Helpers of the process-death tests: every process a command started, and servers that fail."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of process `pid`, from /proc; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0], fields[19]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


class ProcessTree(threading.Thread):
    """Every process descended from `root` while it runs, seen by polling /proc every 20 ms.

    Processes are remembered by pid and start time, so a reused pid is not mistaken for one
    of them. A descendant whose parent died is reparented (to init): it stays in the tree
    because it was seen before.
    """

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.seen: dict[int, str] = {}  # pid -> start time
        self.names: dict[int, str] = {}
        self._done = threading.Event()
        self._lock = threading.Lock()  # the test may poll too, right before a kill
        self.start()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.poll()

    def poll(self) -> None:
        with self._lock:
            self._poll()

    def _poll(self) -> None:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                found = _stat(int(entry.name))
                if found is not None:
                    parents[int(entry.name)] = found[0]
        family = {self.root, *self.seen}
        added = True
        while added:
            new = {pid for pid, parent in parents.items() if parent in family} - family
            for pid in new:
                found = _stat(pid)
                if found is not None:
                    self.seen[pid] = found[2]
                    self.names[pid] = _cmdline(pid)
            family |= new
            added = bool(new)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def alive(self) -> list[str]:
        """The processes seen that still run (zombies excepted), with their command lines."""
        left = []
        for pid, started in self.seen.items():
            found = _stat(pid)
            if found is not None and found[2] == started and found[1] not in ("Z", "X"):
                left.append(f"{pid}: {self.names.get(pid, '?')}")
        return left

    def wait_all_gone(self, timeout: float) -> list[str]:
        """Wait up to `timeout` s for every process seen to end; the ones still alive."""
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.alive()


class SilentServer:
    """A TCP port that accepts connections and never answers (a hung tracking server)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)  # the kernel completes the handshakes; nobody ever reads
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()


def refused_url() -> str:
    """An address where nothing listens: port 9 (discard), as a user might mistype."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 9)) == 0:
            raise RuntimeError("something listens on 127.0.0.1:9 here")
    return "http://127.0.0.1:9"
