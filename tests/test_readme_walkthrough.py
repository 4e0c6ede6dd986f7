"""docs/walkthrough.md, run block by block in an empty folder, so it cannot go stale.

Each fenced block of that page follows a marker comment:
`<!-- walkthrough: file PATH -->` writes the block to PATH, `<!-- walkthrough: run -->` runs
it with bash (in a throwaway venv, where its `pip install` goes), and
`<!-- walkthrough: output -->` is what the run block before it must print.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
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


def walkthrough(page: Path = WALKTHROUGH, title: str | None = None) -> list[Block]:
    """The marked blocks of a docs page (default: the walkthrough), or of one of its sections."""
    text = page.read_text(encoding="utf-8")
    if title is not None:
        start = text.index(title)
        end = text.find("\n## ", start + len(title))
        text = text[start : end if end != -1 else None]
    blocks = [Block(m["kind"], m["arg"], m["text"] + "\n") for m in MARKED.finditer(text)]
    if page == WALKTHROUGH:
        fences = text.count("\n```") // 2
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
            # without the `recordings` extra, `list` marks its handlers; the page shows them usable
            printed.append(re.sub(r"  \(not usable: [^\n]*\)$", "", done.stdout, flags=re.M))
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


PLUGINS = WALKTHROUGH.parent / "plugins.md"
PLUGIN_SECTION = "## Writing a plugin"


def test_the_plugin_section_wires_its_smoother_into_the_demo(tmp_path: Path) -> None:
    """Its plugin and case, written into a copy of this project, run as docs/plugins.md shows."""
    repo = WALKTHROUGH.parents[1]
    folder = tmp_path / "project"
    for part in ("conf", "plugins", "cases/demo"):
        shutil.copytree(repo / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(folder / "cases/demo/raw_data", ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(repo), "PATH": _python_first()}

    blocks = walkthrough(PLUGINS, PLUGIN_SECTION)
    assert [b.kind for b in blocks] == ["file", "file", "run"]
    for block in blocks:
        if block.kind == "file":
            path = folder / str(block.arg)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
        else:
            done = subprocess.run(
                # without MLflow, which the tracking tests cover
                ["bash", "-euo", "pipefail", "-c", block.text.rstrip() + " tracking.enabled=false"],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert done.returncode == 0, f"{block.text}\n{done.stdout}\n{done.stderr}"

    (manifest_path,) = (folder / "outputs/smoothed").glob("*/run.json")
    run = manifest_path.parent
    manifest = json.loads(manifest_path.read_text())
    assert [s["name"] for s in manifest["steps"]] == [
        "Latency Compensator",
        "Smoother",
        "Frame Renderer",
        "Video Creator",
    ]
    predicted = pd.read_parquet(run / "predicted_states.parquet")
    smoothed = pd.read_parquet(run / "smoothed_states.parquet")  # placed by its type
    assert smoothed["t"].tolist() == predicted["t"].tolist()  # times are not averaged
    assert smoothed["x"].tolist() == predicted["x"].rolling(9, min_periods=1).mean().tolist()
    moved = (smoothed["x"].diff() ** 2 + smoothed["y"].diff() ** 2) ** 0.5
    speed = (moved / smoothed["t"].diff()).max()  # the metric is a speed: distance per second
    assert manifest["metrics"]["max_speed"] == pytest.approx(speed)
    assert speed > 0
    assert len(list((run / "frames").glob("*.png"))) == 300
    assert (run / "smoothed.mp4").stat().st_size > 0


def _python_first() -> str:
    """PATH with this interpreter's folder first, so `python` in a block is this one."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
