"""A run whose process was killed: found by a later run, marked, its temporary files removed."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

from nexus.run.manifest import MANIFEST, read_manifest
from nexus.run.orphans import mark_orphans

KILLED_RUN = """
import os, sys
from pathlib import Path
from nexus.core.files import atomic_path
from nexus.run.manifest import MANIFEST, Manifest

run_dir = Path(sys.argv[1])
manifest = Manifest.start(run_dir, case="toy")
manifest.step_started("Double")
with atomic_path(run_dir / "doubled.parquet") as data, atomic_path(run_dir / MANIFEST) as meta:
    data.write_bytes(b"PAR1 half")
    meta.write_text('{"status": "compl', encoding="utf-8")
    os._exit(9)  # as SIGKILL: no clean-up runs
"""


def test_a_killed_run_is_marked_interrupted_and_its_temporaries_go(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs" / "toy"
    run_dir = outputs / "2026-01-01_00-00-00"
    run_dir.mkdir(parents=True)
    done = subprocess.run([sys.executable, "-c", KILLED_RUN, str(run_dir)], check=False)
    assert done.returncode == 9
    assert len(list(run_dir.glob(".partial-*"))) == 2  # the data's and run.json's
    assert (read_manifest(run_dir) or {}).get("status") == "running"

    assert mark_orphans(outputs) == [run_dir]

    manifest = read_manifest(run_dir)
    assert manifest is not None
    assert manifest["status"] == "interrupted"
    assert [s["status"] for s in manifest["steps"]] == ["interrupted"]
    assert manifest["error"]["type"] == "ProcessGone"
    assert datetime.fromisoformat(manifest["finished"]) >= datetime.fromisoformat(
        manifest["started"]
    )
    assert sorted(p.name for p in run_dir.iterdir()) == [MANIFEST]
    assert mark_orphans(outputs) == []  # marked once
