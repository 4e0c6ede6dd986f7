"""Where the MLflow calls run: a helper process that loads mlflow beside nexus, or in-process.

Importing mlflow and opening its store cost about 1.4 CPU-seconds, more than Hydra's whole
start-up, and a run's steps keep both cores of a small machine busy. `python -m nexus`
therefore forks a helper first thing (`start_helper`), before Hydra is imported: it imports
mlflow on the otherwise idle core while nexus composes its config, and then makes the calls
the tracking callback sends it, in order. Each call's answer arrives in a Future; the callback
waits for them only when a run ends, not while the steps run. nexus itself never imports mlflow
then.

Without a helper (nexus called as a library, in tests, in the worker processes of joblib,
submitit or Ray, or where `os.fork` is missing) the same `Recorder` runs in-process and every
call is done before `submit` returns.

If the nexus process is killed outright, the helper sees its pipe close without a goodbye and
ends the runs left open as KILLED.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from nexus.tracking.store import TrackingError

__all__ = ["Recording", "helper_process", "recording", "start_helper", "stop_helper"]

_GOODBYE = "goodbye"


class Recording(Protocol):
    """Sends the `Recorder`'s calls somewhere; each answer arrives in a Future."""

    def submit(self, method: str, *args: Any, **kwargs: Any) -> Future[Any]: ...


class _InProcess:
    """The calls made at once, in this process (mlflow imported at the first one)."""

    def __init__(self) -> None:
        from nexus.tracking.recorder import Recorder

        self._recorder = Recorder()

    def submit(self, method: str, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(getattr(self._recorder, method)(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class _Helper:
    """The calls sent to the helper process; a thread receives the answers."""

    def __init__(self, pid: int, connection: Any) -> None:
        self.pid = pid
        self._connection = connection
        self._pending: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._count = 0
        self.used = False
        self._receiver = threading.Thread(target=self._receive, name="nexus-recorder", daemon=True)
        self._receiver.start()

    def submit(self, method: str, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            self._count += 1
            number = self._count
            self._pending[number] = future
            self.used = True
            try:
                self._connection.send((number, method, args, kwargs))
            except OSError as exc:
                self._pending.pop(number)
                future.set_exception(_gone(exc))
        return future

    def close(self) -> None:
        """Say goodbye (the helper then exits) and wait for it; kill it if it was never used."""
        if not self.used:
            os.kill(self.pid, signal.SIGKILL)  # still importing mlflow, for nothing
        else:
            with self._lock, contextlib.suppress(OSError):
                self._connection.send((0, _GOODBYE, (), {}))
        self._connection.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def _receive(self) -> None:
        while True:
            try:
                number, ok, value = self._connection.recv()
            except (EOFError, OSError) as exc:
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
                future.set_exception(TrackingError(value))


def _gone(exc: BaseException) -> TrackingError:
    return TrackingError(f"the MLflow helper process ended unexpectedly ({exc!r})")


_helper: _Helper | None = None
_owner_pid = -1  # the process that started the helper; its forked children (render workers) not
_in_process: _InProcess | None = None


def recording() -> Recording:
    """Where this process's MLflow calls go: its helper if it started one, else in-process."""
    global _in_process
    if _helper is not None and os.getpid() == _owner_pid:
        return _helper
    if _in_process is None:
        _in_process = _InProcess()
    return _in_process


def helper_process() -> dict[str, Any] | None:
    """The helper's pid and start time, for run.json: a later run waits for it to be gone."""
    if _helper is None or os.getpid() != _owner_pid:
        return None
    from nexus.run.manifest import process_start

    return {"pid": _helper.pid, "pid_started": process_start(_helper.pid)}


def start_helper() -> bool:
    """Fork the helper process, which starts importing mlflow at once; False where impossible.

    Call it before anything starts threads (it forks): first thing in the entry point.
    """
    global _helper, _owner_pid
    if _helper is not None or not hasattr(os, "fork"):
        return _helper is not None
    from multiprocessing.connection import Pipe

    ours, theirs = Pipe()
    pid = os.fork()
    if pid == 0:
        ours.close()
        _serve(theirs)  # never returns
    theirs.close()
    _helper, _owner_pid = _Helper(pid, ours), os.getpid()
    return True


def stop_helper() -> None:
    """End the helper, once every call sent has been answered."""
    global _helper
    if _helper is not None and os.getpid() == _owner_pid:
        helper, _helper = _helper, None
        helper.close()


def _serve(connection: Any) -> None:
    """The helper's life: load mlflow, then make the calls it is sent, in order, until goodbye."""
    code = 0
    try:
        # Ctrl-C and SIGTERM are for nexus: it ends its runs through this process.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        from nexus.tracking.recorder import Recorder

        recorder = Recorder()
        with contextlib.suppress(Exception):  # if it fails, the first call says why
            recorder.load()
        _answer_calls(connection, recorder)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never run the parent's exit handlers: they are not this process's


def _answer_calls(connection: Any, recorder: Any) -> None:
    """Make each call sent, in order; its answer goes back while nexus is there to read it."""
    nexus_listening = True
    while True:
        try:
            number, method, args, kwargs = connection.recv()
        except (EOFError, OSError):  # nexus is gone without a goodbye: killed
            recorder.end_all("KILLED")
            return
        if method == _GOODBYE:
            return
        call: Callable[..., Any] = getattr(recorder, method)
        try:
            answer = (number, True, call(*args, **kwargs))
        except Exception as exc:
            answer = (number, False, f"{type(exc).__name__}: {exc}")
        if nexus_listening:
            try:
                connection.send(answer)
            except OSError:  # killed: make the calls it had sent, then end its runs
                nexus_listening = False
