"""The speed-ups' one switch, and the one freeze of the objects loaded before a run."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from nexus.cli.speedups import SPEEDUPS, SWITCH, enabled, objects_frozen


@pytest.mark.parametrize(
    ("value", "on"),
    [
        pytest.param(None, set(SPEEDUPS), id="unset"),
        pytest.param("", set(SPEEDUPS), id="empty"),
        pytest.param("0", set(SPEEDUPS), id="zero"),
        pytest.param("1", set(), id="one"),
        pytest.param("all", set(), id="all"),
        pytest.param("helper", {"fast_exit", "gc_freeze"}, id="helper"),
        pytest.param("fast_exit, gc_freeze", {"helper"}, id="two-with-space"),
        pytest.param("gc_freeze,unknown", {"helper", "fast_exit"}, id="with-unknown"),
    ],
)
def test_the_switch_turns_off_all_or_the_ones_named(
    monkeypatch: pytest.MonkeyPatch, value: str | None, on: set[str]
) -> None:
    if value is None:
        monkeypatch.delenv(SWITCH, raising=False)
    else:
        monkeypatch.setenv(SWITCH, value)
    assert {name for name in SPEEDUPS if enabled(name)} == on


def test_objects_are_frozen_once_and_thawed_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SWITCH, raising=False)
    assert gc.get_freeze_count() == 0
    with objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with objects_frozen():  # nested: leaves the outer freeze alone
            pass
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_switched_off_nothing_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWITCH, "1")
    with objects_frozen():
        assert gc.get_freeze_count() == 0


@pytest.mark.parametrize(
    ("switch", "code"), [("0", 3), ("1", 3), ("0", 0)], ids=["fast", "plain", "fast-ok"]
)
def test_the_exit_runs_exit_handlers_and_flushes_either_way(switch: str, code: int) -> None:
    script = (
        "import atexit, sys\n"
        "from nexus.cli.speedups import exit_now\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "sys.stdout.write('unflushed')\n"
        f"exit_now({code})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NEXUS_NO_SPEEDUPS": switch, "PYTHONPATH": ":".join(sys.path)},
        check=False,
    )
    assert done.returncode == code
    assert done.stdout == "unflushedhandler ran\n"
