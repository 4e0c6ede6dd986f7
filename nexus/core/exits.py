"""A plugin that exits (`sys.exit`, `exit()`, `os._exit`) fails its step instead of the command.

`sys.exit` raises SystemExit, which would pass every `except Exception` up to the interpreter
and end the command with the plugin's code (0 looks like success) and no message. `os._exit`
ends the process on the spot, so while a step runs it is replaced by a function that raises;
a process the step forks (a worker) keeps the real one, as do other threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
import traceback
from collections.abc import Iterator
from typing import NoReturn

from nexus.errors import PluginImportError, StepError

__all__ = ["OsExit", "exit_import_error", "exit_step_error", "os_exit_refused"]


class OsExit(SystemExit):
    """`os._exit(code)` called by a step in nexus's own process."""


@contextlib.contextmanager
def os_exit_refused() -> Iterator[None]:
    """While the block runs, `os._exit` in this process's main thread raises OsExit."""
    real = os._exit
    pid = os.getpid()

    def refused(code: int) -> NoReturn:
        if os.getpid() != pid or threading.current_thread() is not threading.main_thread():
            real(code)  # a forked worker ending, or another thread: not the step itself
        raise OsExit(code)

    os._exit = refused
    try:
        yield
    finally:
        os._exit = real


def exit_step_error(exc: SystemExit, step: str, plugin: str, where: str) -> StepError:
    """The step failure for a plugin that exited, naming the line that did."""
    name = f"step '{step}'" if step == plugin else f"step '{step}' (plugin '{plugin}')"
    return StepError(
        f"{name} called {_call(exc)}({exc.code!r}): a step may not end the command",
        [
            _exit_line(exc) or f"plugin defined at {where}",
            "raise an exception to fail the step, or return to end it",
        ],
    )


def exit_import_error(exc: SystemExit, shown: str) -> PluginImportError:
    """The error for a module that exited while it was imported."""
    return PluginImportError(
        f"{shown} called {_call(exc)}({exc.code!r}) while it was imported",
        [
            _exit_line(exc),
            "every command imports the modules under plugins/: do not exit in one",
        ],
    )


def _call(exc: SystemExit) -> str:
    return "os._exit" if isinstance(exc, OsExit) else "sys.exit"


def _exit_line(exc: BaseException) -> str:
    """`at FILE:LINE: code` of the line that exited (the deepest frame but ours), else ''."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename != __file__ and not f.filename.startswith("<")
    ]
    if not frames:
        return ""
    last = frames[-1]
    return f"at {last.filename}:{last.lineno}: {(last.line or '').strip()}".rstrip(": ")
