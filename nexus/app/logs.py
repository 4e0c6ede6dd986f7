"""Log formatting: short lines on the console, full records and tracebacks in `nexus.log`."""

from __future__ import annotations

import logging

__all__ = ["ConsoleFormatter"]


class ConsoleFormatter(logging.Formatter):
    """`message` for INFO, `LEVEL: message` above it; never a traceback (that is in the log)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message

    def formatException(self, ei: object) -> str:
        return ""
