"""Log formatting: short lines on the console, full records and tracebacks in `nexus.log`."""

from __future__ import annotations

import logging
import re

from nexus.run.rundirs import PARENT_RUN_KEY

__all__ = ["ConsoleFormatter"]

# Hydra names each job of a sweep with its overrides; the parent run's id is nexus's own.
_INTERNAL_OVERRIDE = re.compile(rf"\s*{re.escape(PARENT_RUN_KEY)}=\S*")


class ConsoleFormatter(logging.Formatter):
    """`message` for INFO, `LEVEL: message` above it; never a traceback (that is in the log).

    Overrides nexus adds for itself (`tracking.parent_run_id=...`) are left out.
    """

    def format(self, record: logging.LogRecord) -> str:
        message = _INTERNAL_OVERRIDE.sub("", record.getMessage())
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message

    def formatException(self, ei: object) -> str:
        return ""
