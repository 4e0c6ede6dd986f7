"""The one reader of command-line overrides, what reads them through it, and the overrides
Hydra's parser cannot take, which are parameter errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nexus.config.overrides import Override, check_overrides, parse_override
from nexus.errors import ConfigError
from nexus.run.resume import resume_commands


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pipeline.x=1", Override("pipeline.x", "1")),
        ("+pipeline.x=1", Override("pipeline.x", "1")),
        ("++pipeline.x=a=b", Override("pipeline.x", "a=b")),
        ("~pipeline.x", Override("pipeline.x", None)),
        ("~pipeline.x=3", Override("pipeline.x", "3")),
        ("case=", Override("case", "")),
        ("only=Frame Renderer", Override("only", "Frame Renderer")),
        ("-m", Override("-m", None)),
    ],
    ids=["plain", "add", "force-add", "delete", "delete-value", "empty", "spaces", "flag"],
)
def test_parse_override(text: str, expected: Override) -> None:
    assert parse_override(text) == expected


def test_resume_commands_drop_only_and_inputs_from_in_any_form() -> None:
    overrides = ["case=demo", "+only=X", "++inputs_from=latest", "pipeline.zoom_factor=8"]

    commands = resume_commands(overrides, ["A", "B"], "B")

    assert commands == ['python -m nexus case=demo pipeline.zoom_factor=8 only="B"']


def test_the_parser_imports_neither_hydra_nor_omegaconf() -> None:
    # The command line reads overrides before it imports Hydra (nexus.cli.main._will_track).
    code = (
        "import sys\n"
        "from nexus.config.overrides import parse_override\n"
        "parse_override('+tracking.enabled=false')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('hydra', 'omegaconf')))\n"
    )

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "[]"


DIGITS = "7" * 5000

REFUSED = {
    "long-number": ([f"pipeline.x={DIGITS}"], "pipeline.x = 777", "a number of 5,000 digits"),
    "long-negative": ([f"pipeline.x=-{DIGITS}"], "pipeline.x", "5,000 digits"),
    "in-a-list": ([f"pipeline.x=[1,{DIGITS}]"], "pipeline.x", "5,000 digits"),
    "in-a-dict": ([f"pipeline.x={{a: {DIGITS}}}"], "pipeline.x", "5,000 digits"),
    "appended": ([f"+pipeline.y={DIGITS}"], "pipeline.y = ", "5,000 digits"),
    "deep-list": (["pipeline.x=" + "[" * 65 + "]" * 65], "pipeline.x", "more than 64 levels"),
    "deep-dict": (["pipeline.x=" + "{a:" * 100 + "1" + "}" * 100], "pipeline.x", "64 levels"),
}


@pytest.mark.parametrize(("args", "key", "why"), REFUSED.values(), ids=REFUSED.keys())
def test_overrides_no_parameter_can_hold_are_refused(args: list[str], key: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_overrides(["case=demo", *args])

    message = caught.value.render()
    assert key in message
    assert why in message
    assert len(message) < 400


ACCEPTED = {
    "quoted-number": [f"pipeline.x='{DIGITS}'"],
    "at-the-limit": ["pipeline.x=" + "9" * 4300],
    "brackets-in-quotes": ["pipeline.x='" + "[" * 100 + "'"],
    "nested-a-little": ["pipeline.x=[[1,2],[3,4]]"],
    "flags": ["-m", "--cfg", "job"],
}


@pytest.mark.parametrize("args", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_ordinary_overrides_pass(args: list[str]) -> None:
    check_overrides(args)
