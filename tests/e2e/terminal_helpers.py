"""`python -m nexus` on a real pseudo-terminal, and what a terminal shows after its output."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from e2e_helpers import _clean_env

COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # SGR: colours and text styles
_CONTROL = re.compile(r"\x1b\[(\??)([0-9;]*)([A-Za-z])|\r|\n")


def in_terminal(
    project: Path, *args: str, env: dict[str, str] | None = None, columns: int = 120
) -> tuple[int, str]:
    """Run `python -m nexus ARGS` with a pseudo-terminal as its stdin, stdout and stderr."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    unwanted = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")
    quiet = {k: v for k, v in _clean_env().items() if k not in unwanted}
    process = subprocess.Popen(
        [sys.executable, "-m", "nexus", *args],
        cwd=project,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**quiet, "TERM": "xterm", **(env or {})},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=120), b"".join(chunks).decode()


def screen(output: str, columns: int = 120) -> list[str]:
    """The lines a terminal `columns` wide shows once `output` is written.

    Knows what nexus and rich send: text (wrapped at the right edge), carriage return, new
    line, erase line (`ESC[K`, `ESC[2K`) and cursor up (`ESC[nA`); colours and cursor
    visibility change no text.
    """
    lines, row, col = [""], 0, 0
    position = 0
    for match in [*_CONTROL.finditer(output), None]:
        text = output[position : match.start() if match else len(output)]
        while text:
            if col == columns:  # the terminal wraps onto the next line
                row, col = row + 1, 0
                lines.extend([""] * (row + 1 - len(lines)))
            part, text = text[: columns - col], text[columns - col :]
            line = lines[row].ljust(col)
            lines[row] = line[:col] + part + line[col + len(part) :]
            col += len(part)
        if match is None:
            break
        position = match.end()
        token, private, number, command = match.group(0), *match.groups()
        if token == "\r":
            col = 0
        elif token == "\n":
            row += 1
            lines.extend([""] * (row + 1 - len(lines)))
        elif command == "K" and not private:
            lines[row] = lines[row][:col] if number in ("", "0") else ""
        elif command == "A":
            row = max(0, row - int(number or 1))
    return [line.rstrip() for line in lines]
