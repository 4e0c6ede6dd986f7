"""The product's face: the README's three demo commands, on a fresh copy of the project."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pyarrow.parquet as pq
import pytest
from e2e_helpers import nexus
from PIL import Image

FRAMES, ROWS = 300, 1800


def _probe(video: Path) -> str:
    """ffmpeg's description of the video stream (ffmpeg -i exits 1 without an output)."""
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(video)],
        capture_output=True,
        text=True,
        check=False,
    )
    return next(line for line in done.stderr.splitlines() if "Video:" in line)


def _assert_playable_h264(video: Path) -> None:
    stream = _probe(video)
    assert "h264" in stream
    assert "yuv420p" in stream
    assert re.search(r"\b640x480\b", stream)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert frames == FRAMES
    assert seconds == pytest.approx(10.0, abs=0.1)


@pytest.fixture(scope="module")
def first_run(demo_project: Path) -> Path:
    """`python -m nexus case=demo` on a fresh clone: raw data generated, every step run."""
    result = nexus(demo_project, "case=demo")
    assert result.code == 0, result.stderr
    [run_dir] = [p for p in (demo_project / "outputs" / "demo").iterdir() if p.name != "sweeps"]
    return run_dir


def test_the_demo_run_predicts_renders_and_encodes(demo_project, first_run):
    assert (demo_project / "cases" / "demo" / "raw_data" / "latent_measurements.csv").exists()
    manifest = json.loads((first_run / "run.json").read_text())
    assert manifest["status"] == "completed"
    assert [s["name"] for s in manifest["steps"]] == [
        "Latency Compensator",
        "Frame Renderer",
        "Video Creator",
    ]
    assert 0 < manifest["metrics"]["rmse"] < 1.0
    assert manifest["mlflow_run_id"]
    # The process ends without the interpreter's teardown: its log is whole all the same, and
    # the MLflow helper it forked is gone with it.
    lines = (first_run / "nexus.log").read_text().rstrip().splitlines()
    assert lines[-2].endswith(f"run completed: {first_run}")
    assert "MLflow: see the runs with `mlflow ui`" in lines[-1]  # the last line, written last
    assert not Path(f"/proc/{manifest['recorder']['pid']}").exists()

    states = pq.read_table(first_run / "predicted_states.parquet")
    assert states.num_rows == ROWS
    assert {"t", "x", "y"} <= set(states.column_names)
    frames = sorted((first_run / "frames").glob("*.png"))
    assert len(frames) == FRAMES
    with Image.open(frames[0]) as image:
        assert image.size == (640, 480)
    _assert_playable_h264(first_run / "demo.mp4")


def test_only_video_creator_encodes_the_frames_of_the_previous_run(demo_project, first_run):
    result = nexus(demo_project, "case=demo", "only=Video Creator")

    assert result.code == 0, result.stderr
    runs = sorted(p for p in (demo_project / "outputs" / "demo").iterdir() if p.name != "sweeps")
    second = next(
        p
        for p in runs
        if p not in (first_run,)
        and (p / "demo.mp4").exists()
        and json.loads((p / "run.json").read_text()).get("only")
    )
    manifest = json.loads((second / "run.json").read_text())
    assert manifest["inputs_from"] == str(first_run)
    assert [s["name"] for s in manifest["steps"]] == ["Video Creator"]
    assert not (second / "frames").exists()
    assert not (second / "predicted_states.parquet").exists()
    _assert_playable_h264(second / "demo.mp4")


def test_the_latency_sweep_finds_the_true_latency(demo_project, first_run):
    result = nexus(demo_project, "case=demo", "pipeline.latency_to_compensate_s=0.1,0.2,0.3", "-m")

    assert result.code == 0, result.stderr
    [sweep_dir] = list((demo_project / "outputs" / "demo" / "sweeps").iterdir())
    jobs = {}
    for job in sorted(p for p in sweep_dir.iterdir() if p.is_dir()):
        manifest = json.loads((job / "run.json").read_text())
        assert manifest["status"] == "completed"
        _assert_playable_h264(job / "demo.mp4")
        latency = next(o for o in manifest["overrides"] if o.startswith("pipeline.latency"))
        jobs[latency.split("=")[1]] = manifest["metrics"]["rmse"]
    assert sorted(jobs) == ["0.1", "0.2", "0.3"]
    assert min(jobs, key=jobs.__getitem__) == "0.2"  # the demo's data is delayed by 0.2 s
    assert (sweep_dir / "summary.csv").read_text().count("\n") == 4
