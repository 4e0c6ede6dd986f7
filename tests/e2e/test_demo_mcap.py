"""Case demo_mcap: the demo replayed from one MCAP recording computes the CSV demo's states."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from e2e_helpers import REPO, nexus

from nexus.errors import DataError
from nexus.handlers import McapHandler

ONLY = ("only=Latency Compensator", "tracking.enabled=false")  # the frames and video: not needed


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's conf/, plugins/ and both demo cases, without outputs or raw data."""
    root = tmp_path_factory.mktemp("demo_mcap") / "project"
    shutil.copytree(REPO / "conf", root / "conf")
    shutil.copytree(REPO / "plugins", root / "plugins", ignore=shutil.ignore_patterns("__py*"))
    for case in ("demo", "demo_mcap"):
        (root / "cases" / case).mkdir(parents=True)
        shutil.copy(REPO / "cases" / case / "case.yaml", root / "cases" / case / "case.yaml")
    return root


def run(project: Path, case: str) -> Path:
    result = nexus(project, f"case={case}", *ONLY)
    assert result.code == 0, result.stderr
    [run_dir] = (project / "outputs" / case).iterdir()
    return run_dir


def test_demo_mcap_predicts_the_states_of_the_csv_demo(project: Path) -> None:
    from_mcap = run(project, "demo_mcap")
    from_csv = run(project, "demo")

    states = McapHandler().load(from_mcap / "predicted_states.mcap", topic="/predicted_states")
    expected = pd.read_parquet(from_csv / "predicted_states.parquet")
    assert len(expected) == 1800
    pd.testing.assert_frame_equal(states, expected, check_exact=True)
    metrics = [json.loads((d / "run.json").read_text())["metrics"] for d in (from_mcap, from_csv)]
    assert metrics[0]["rmse"] == metrics[1]["rmse"]


def test_the_generator_writes_one_recording_with_three_topics(project: Path) -> None:
    recording = project / "cases" / "demo_mcap" / "raw_data" / "drive.mcap"
    if not recording.exists():
        run(project, "demo_mcap")

    with pytest.raises(DataError) as caught:
        McapHandler().load(recording, topic="/nothing")

    assert str(caught.value).splitlines()[1:] == [
        "  its topics (3):",
        "    /camera_times  (300 messages, json camera_times)",
        "    /ground_truth  (1800 messages, json ground_truth)",
        "    /measurements  (1800 messages, json measurements)",
    ]
    camera = McapHandler().load(recording, topic="/camera_times", start_s=2.0, end_s=3.0)
    manifest = pd.read_csv(recording.parent / "video_manifest.csv")
    assert camera["frame_index"].tolist() == list(range(60, 90))
    assert camera["t"].tolist() == manifest["t"].tolist()[60:90]
