"""The console's log format: short lines, no tracebacks, no overrides nexus adds for itself."""

from __future__ import annotations

import logging
import sys

import pytest

from nexus.app.logs import ConsoleFormatter


def _record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("hydra", level, __file__, 1, message, None, None)


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("\t#0 : case=toy x=1 tracking.parent_run_id=ab12cd", "\t#0 : case=toy x=1"),
        ("\t#3 : tracking.parent_run_id=ab12cd case=toy", "\t#3 : case=toy"),
        ("\t#1 : case=toy tracking.enabled=false", "\t#1 : case=toy tracking.enabled=false"),
    ],
    ids=["last", "first", "absent"],
)
def test_the_parent_run_override_is_left_out(message: str, shown: str) -> None:
    assert ConsoleFormatter().format(_record(message)) == shown


def test_warnings_name_their_level_and_tracebacks_stay_in_the_log() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("it broke", logging.WARNING)
        record.exc_info = sys.exc_info()
    assert ConsoleFormatter().format(record) == "warning: it broke"
