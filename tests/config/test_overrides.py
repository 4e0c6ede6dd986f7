"""The one reader of command-line overrides, and what reads them through it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nexus.config.overrides import Override, parse_override
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
