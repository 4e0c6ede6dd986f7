"""docs/walkthrough.md, run block by block in an empty folder, so it cannot go stale.

Each fenced block of that page follows a marker comment:
`<!-- walkthrough: file PATH -->` writes the block to PATH, `<!-- walkthrough: run -->` runs
it with bash (in a throwaway venv, where its `pip install` goes), and
`<!-- walkthrough: output -->` is what the run block before it must print.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from venv_helpers import Venv, in_test_environment

pytestmark = pytest.mark.e2e  # installs nexus into a fresh venv

WALKTHROUGH = Path(__file__).resolve().parents[1] / "docs" / "walkthrough.md"
MARKED = re.compile(
    r"<!-- walkthrough: (?P<kind>file|run|output)(?: (?P<arg>\S+))? -->\n"
    r"```(?P<lang>\w*)\n(?P<text>.*?)\n```",
    re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    kind: str
    arg: str | None
    text: str


def walkthrough() -> list[Block]:
    """The marked blocks of the walkthrough, in order."""
    page = WALKTHROUGH.read_text(encoding="utf-8")
    blocks = [Block(m["kind"], m["arg"], m["text"] + "\n") for m in MARKED.finditer(page)]
    fences = page.count("\n```") // 2
    assert len(blocks) == fences, "every code block of the walkthrough needs a marker comment"
    return blocks


def test_the_walkthrough_is_marked_up() -> None:
    kinds = [b.kind for b in walkthrough()]

    assert kinds.count("file") >= 6
    assert kinds.count("run") >= 4
    assert kinds.count("output") >= 1
    assert all(b.arg for b in walkthrough() if b.kind == "file")


def test_the_walkthrough_runs(tmp_path: Path) -> None:
    folder = tmp_path / "walkthrough"
    folder.mkdir()
    env = Venv.create(tmp_path / "venv")
    printed: list[str] = []

    for block in walkthrough():
        if block.kind == "file":
            path = folder / str(block.arg)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
        elif block.kind == "run":
            done = env.run(folder, "bash", "-euo", "pipefail", "-c", block.text, timeout=900)
            assert done.returncode == 0, f"{block.text}\n{done.stdout}\n{done.stderr}"
            printed.append(done.stdout)
        else:
            assert printed[-1] == block.text, f"the walkthrough shows:\n{block.text}"

    runs = sorted(
        (
            (json.loads(p.read_text()), p.parent)
            for p in (folder / "outputs/gps").glob("*/run.json")
        ),
        key=lambda run: str(run[0]["started"]),
    )
    assert [(manifest["status"], manifest["metrics"]) for manifest, _ in runs] == [
        ("completed", {"dropped": 1.0}),
        ("completed", {"dropped": 0.0}),
        ("completed", {"dropped": 1.0}),  # the last one with the installed package
    ]
    kept = (runs[0][1] / "clean_pings.jsonl").read_text().splitlines()
    assert [json.loads(line)["t"] for line in kept] == [0, 1, 3]
    assert [out.splitlines()[-1].split(" in ")[0] for out in printed if "passed" in out] == [
        "3 passed",
        "3 passed",
    ]
    page = (folder / "REFERENCE.md").read_text(encoding="utf-8")
    assert (
        "- **defined in**: `gpsclean.steps.drop_jumps`, entry point 'gpsclean' of gpsclean" in page
    )
    assert (
        "| `max_jump_m` | `float` | `5.0` | > 0 | how far a ping may be from the last kept |"
        in (page)
    )
    assert not (folder / "plugins/jumps.py").exists()
    assert not in_test_environment("gpsclean")  # the venv had it, never the test environment
