"""Where the MLflow calls run: a helper process that loads mlflow beside nexus, or in-process.

Importing mlflow and opening its store cost about 1.4 CPU-seconds, more than Hydra's whole
start-up, and a run's steps keep both cores of a small machine busy. `python -m nexus`
therefore forks a helper first thing (`nexus.cli.speedups.start_helper`), before Hydra is
imported: it imports mlflow on the otherwise idle core while nexus composes its config, and
then makes the calls the tracking callback sends it, in order. Each call's answer arrives in
a Future; the callback waits for them only when a run ends, not while the steps run.

A `Recording` offers the `Recorder`'s methods as typed calls: `InProcess` makes them at once
(nexus called as a library, the worker processes of joblib, submitit or Ray, or with the
helper switched off), `Helper` sends them to the helper process.

If the nexus process dies, the helper sees its pipe close without a goodbye and ends the runs
left open as KILLED. Only the nexus process holds its end of the pipe: processes forked from
it (render workers) close their copy at once, so that they cannot keep the helper waiting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from nexus.tracking.recorder import Recorder
from nexus.tracking.store import TrackingError

__all__ = ["GRACE_S", "Helper", "InProcess", "Recording", "fork_helper"]

T = TypeVar("T")
GRACE_S = 10.0  # what the helper gets to end its runs once nexus is gone, unless told otherwise
_GOODBYE = None  # the message that ends the helper


class Recording:
    """The `Recorder`'s calls, each answered in a Future; subclasses say where they run."""

    def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        raise NotImplementedError

    def open(self, uri: str, root: str, timeout_s: float) -> Future[None]:
        """See `Recorder.open`."""
        return self._call(Recorder.open, uri, root, timeout_s)

    def start_run(
        self,
        handle: str,
        uri: str,
        root: str,
        experiment: str,
        run_name: str,
        tags: dict[str, str],
        params: dict[str, str] | None = None,
    ) -> Future[str]:
        """See `Recorder.start_run`."""
        return self._call(Recorder.start_run, handle, uri, root, experiment, run_name, tags, params)

    def log(self, handle: str, **logged: Any) -> Future[None]:
        """See `Recorder.log`."""
        return self._call(Recorder.log, handle, **logged)

    def end_run(self, handle: str, status: str) -> Future[None]:
        """See `Recorder.end_run`."""
        return self._call(Recorder.end_run, handle, status)

    def end_if_running(self, uri: str, root: str, run_id: str, status: str) -> Future[None]:
        """See `Recorder.end_if_running`."""
        return self._call(Recorder.end_if_running, uri, root, run_id, status)

    def experiment_id(self, uri: str, root: str, experiment: str) -> Future[str]:
        """See `Recorder.experiment_id`."""
        return self._call(Recorder.experiment_id, uri, root, experiment)

    def find_run(self, uri: str, root: str, experiment: str, run_dir: str) -> Future[str | None]:
        """See `Recorder.find_run`."""
        return self._call(Recorder.find_run, uri, root, experiment, run_dir)

    def usable(self) -> bool:
        """Whether calls can be sent from this process."""
        return True

    def close(self, timeout_s: float | None) -> None:
        """Release what the calls hold (nothing in-process)."""


class InProcess(Recording):
    """The calls made at once, in this process (mlflow imported at the first one)."""

    def __init__(self) -> None:
        self._recorder = Recorder()

    def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(method(self._recorder, *args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class Helper(Recording):
    """The calls sent to the helper process; a thread receives the answers."""

    def __init__(self, pid: int, connection: Any) -> None:
        self.pid = pid
        self.owner = os.getpid()  # processes forked from it must not use it
        self._connection = connection
        self._pending: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._count = 0
        self.used = False
        self._receiver = threading.Thread(target=self._receive, name="nexus-recorder", daemon=True)
        self._receiver.start()
        os.register_at_fork(after_in_child=self._drop_in_child)

    def usable(self) -> bool:
        """True in the process that forked the helper, while it is open."""
        return os.getpid() == self.owner and not self._connection.closed

    def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._count += 1
            number = self._count
            self._pending[number] = future
            self.used = True
            try:
                self._connection.send((number, method, args, kwargs))
            except (OSError, ValueError) as exc:  # ValueError: closed already
                self._pending.pop(number)
                future.set_exception(_gone(exc))
        return future

    def close(self, timeout_s: float | None) -> None:
        """Say goodbye and wait up to `timeout_s` (None: as long as it takes) for the helper to
        finish its calls; then kill it.

        A helper never used is killed at once (it is still importing mlflow, for nothing).
        Ctrl-C while waiting kills it too: the command must end now.
        """
        if os.getpid() != self.owner or self._connection.closed:
            return
        try:
            if self.used:
                with self._lock, contextlib.suppress(OSError):
                    self._connection.send((0, _GOODBYE, (), {}))
                self._wait(timeout_s)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # gone already, unless it overstayed
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self._connection.close()

    def _wait(self, timeout_s: float | None) -> None:
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else float("inf"))
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
                if pid == 0:
                    time.sleep(0.02)
                    continue
            return

    def _drop_in_child(self) -> None:
        """In a process forked from nexus: close this copy of the pipe, never use it."""
        if os.getpid() != self.owner and not self._connection.closed:
            self._connection.close()

    def _receive(self) -> None:
        while True:
            try:
                number, ok, value = self._connection.recv()
            except (EOFError, OSError, TypeError) as exc:  # TypeError: closed meanwhile
                with self._lock:
                    waiting, self._pending = list(self._pending.values()), {}
                for future in waiting:
                    future.set_exception(_gone(exc))
                return
            with self._lock:
                future = self._pending.pop(number)
            if ok:
                future.set_result(value)
            else:
                message, *details = value.split("\n  ")
                future.set_exception(TrackingError(message, details))


def _gone(exc: BaseException) -> TrackingError:
    return TrackingError(f"the MLflow helper process ended unexpectedly ({exc!r})")


def fork_helper() -> Helper | None:
    """Fork the helper process, which starts importing mlflow at once; None where impossible."""
    if not hasattr(os, "fork"):
        return None
    from multiprocessing.connection import Pipe

    ours, theirs = Pipe()
    pid = os.fork()
    if pid == 0:
        ours.close()
        _serve(theirs)  # never returns
    theirs.close()
    return Helper(pid, ours)


def _serve(connection: Any) -> None:
    """The helper's life: load mlflow, then make the calls it is sent, in order, until goodbye."""
    code = 0
    try:
        # Ctrl-C and SIGTERM are for nexus: it ends its runs through this process.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        recorder = Recorder()
        parent = os.getppid()
        threading.Thread(target=_watch_parent, args=(parent, recorder), daemon=True).start()
        with contextlib.suppress(Exception):  # if it fails, the first call says why
            recorder.load()
        _answer_calls(connection, recorder)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never run the parent's exit handlers: they are not this process's


def _answer_calls(connection: Any, recorder: Recorder) -> None:
    """Make each call sent, in order; its answer goes back while nexus is there to read it."""
    nexus_listening = True
    while True:
        try:
            number, method, args, kwargs = connection.recv()
        except (EOFError, OSError):  # nexus is gone without a goodbye: killed
            recorder.end_all("KILLED")
            return
        if method is _GOODBYE:
            return
        try:
            answer = (number, True, method(recorder, *args, **kwargs))
        except TrackingError as exc:
            answer = (number, False, str(exc))
        except Exception as exc:
            answer = (number, False, f"{type(exc).__name__}: {exc}")
        if nexus_listening:
            try:
                connection.send(answer)
            except OSError:  # killed: make the calls it had sent, then end its runs
                nexus_listening = False


def _watch_parent(parent: int, recorder: Recorder) -> None:
    """Once nexus is gone, end the helper if a call to a tracking server overruns the deadline.

    However stuck such a call is (a server that does not answer), no helper outlives nexus
    long. Calls to a local store are left to finish: killing one could leave it half-written.
    """
    while os.getppid() == parent:
        time.sleep(0.1)
    limit = recorder.timeout_s if recorder.timeout_s is not None else GRACE_S
    while True:
        started = recorder.calling_server_since
        if started is not None and time.monotonic() - started > limit:
            os._exit(1)
        time.sleep(0.1)
