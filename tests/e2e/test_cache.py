"""Incremental runs, for real: the demo run again, edited, swept, killed, with its origin gone.

Each test has a fresh copy of the demo project whose raw data is 2 s long (60 frames), so a
full run takes seconds; tracking is off except where MLflow is what is tested.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import REPO, nexus, start_nexus

FRAMES = 60
STEPS = ["Latency Compensator", "Frame Renderer", "Video Creator"]


@pytest.fixture(scope="session")
def small_raw_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's raw data, 2 s long: made once by the demo's own generator."""
    case_dir = tmp_path_factory.mktemp("raw")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from plugins.demo.data_generator import generate_demo_data; "
            "generate_demo_data(Path(sys.argv[1]), duration_s=2.0)",
            str(case_dir),
        ],
        cwd=REPO,
        check=True,
    )
    return case_dir / "raw_data"


@pytest.fixture
def demo(tmp_path: Path, small_raw_data: Path) -> Path:
    """A fresh copy of the demo project (conf, plugins, cases/demo) with the small raw data."""
    project = tmp_path / "project"
    shutil.copytree(REPO / "conf", project / "conf")
    shutil.copytree(
        REPO / "plugins", project / "plugins", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "cases" / "demo").mkdir(parents=True)
    shutil.copy(REPO / "cases" / "demo" / "case.yaml", project / "cases" / "demo")
    shutil.copytree(small_raw_data, project / "cases" / "demo" / "raw_data")
    return project


def run(project: Path, *args: str, code: int = 0) -> str:
    """`python -m nexus case=demo ARGS` without tracking; its console output."""
    result = nexus(project, "case=demo", "tracking.enabled=false", *args)
    assert result.code == code, result.stdout + result.stderr
    return result.stdout + result.stderr


def runs(project: Path) -> list[Path]:
    """The demo's run directories (sweep jobs too), oldest first."""
    found = [p.parent for p in (project / "outputs" / "demo").rglob("run.json")]
    return sorted(found, key=lambda p: json.loads((p / "run.json").read_text())["started"])


def cache_of(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Each step's `cache` entry in the run's run.json."""
    manifest = json.loads((run_dir / "run.json").read_text())
    return {s["name"]: s.get("cache", {}) for s in manifest["steps"]}


def statuses(run_dir: Path) -> dict[str, str]:
    return {name: cache.get("status", "") for name, cache in cache_of(run_dir).items()}


def files_of(run_dir: Path) -> dict[str, bytes]:
    outputs = [run_dir / "predicted_states.parquet", run_dir / "demo.mp4", run_dir / "frames"]
    found = {}
    for output in outputs:
        for file in [output] if output.is_file() else sorted(output.iterdir()):
            assert not file.is_symlink()
            found[file.relative_to(run_dir).as_posix()] = file.read_bytes()
    return found


def renderer_records(project: Path) -> list[dict[str, Any]]:
    folder = project / "outputs" / ".nexus-cache" / "entries" / "Frame_Renderer"
    return [json.loads(p.read_text()) for p in folder.glob("*/*.json")]


def test_a_rerun_reuses_every_step_with_byte_identical_outputs(demo: Path) -> None:
    run(demo)
    output = run(demo)

    first, second = runs(demo)
    assert statuses(first) == dict.fromkeys(STEPS, "miss")
    assert statuses(second) == dict.fromkeys(STEPS, "hit")
    assert f"Frame Renderer: reused from outputs/demo/{first.name} (saved" in output
    assert files_of(second) == files_of(first)
    assert len(list((second / "frames").glob("*.png"))) == FRAMES
    manifest = json.loads((second / "run.json").read_text())
    assert (
        manifest["metrics"]["rmse"]
        == json.loads((first / "run.json").read_text())["metrics"]["rmse"]
    )
    assert manifest["cache"]["seconds_saved"] > 0
    renderer = cache_of(second)["Frame Renderer"]
    assert renderer["reused_from"] == f"outputs/demo/{first.name}"
    assert renderer["outputs"]["rendered_frames"].startswith("dir:")
    assert "plugins/demo/canvas.py" in renderer["code"]
    assert "matplotlib" in renderer["packages"]


def test_a_comment_keeps_the_hit_and_a_code_change_reruns_the_renderer_only(demo: Path) -> None:
    run(demo)
    canvas = demo / "plugins" / "demo" / "canvas.py"
    canvas.write_text(canvas.read_text() + "\n# a comment, then a blank line\n\n")
    run(demo)
    assert statuses(runs(demo)[-1]) == dict.fromkeys(STEPS, "hit")

    canvas.write_text(canvas.read_text() + "UNUSED_LIMIT = 3\n")
    status = nexus(demo, "status", "case=demo", "tracking.enabled=false")
    assert status.code == 0, status.stderr
    assert "Frame Renderer: runs (plugins/demo/canvas.py changed)" in status.stdout
    assert "Latency Compensator: reuse" in status.stdout
    assert (
        "Video Creator: runs (rendered_frames changes because Frame Renderer runs)" in status.stdout
    )
    assert len(runs(demo)) == 2  # status ran nothing

    output = run(demo)
    third = runs(demo)[-1]
    # The frames come out the same: the Video Creator, keyed on their content, still hits.
    assert statuses(third) == {
        "Latency Compensator": "hit",
        "Frame Renderer": "miss",
        "Video Creator": "hit",
    }
    assert cache_of(third)["Frame Renderer"]["reasons"] == ["plugins/demo/canvas.py changed"]
    assert "Frame Renderer: runs (plugins/demo/canvas.py changed)" in output


def test_an_fps_sweep_after_a_full_run_renders_no_frame(demo: Path) -> None:
    run(demo)
    run(demo, "pipeline.fps=10,15", "-m")

    jobs = [r for r in runs(demo) if "sweeps" in r.parts]
    assert len(jobs) == 2
    for job in jobs:
        assert statuses(job) == {
            "Latency Compensator": "hit",
            "Frame Renderer": "hit",
            "Video Creator": "miss",
        }
        assert (job / "demo.mp4").stat().st_size > 0


def test_a_joblib_sweep_on_a_fresh_clone_renders_the_frames_once(demo: Path) -> None:
    output = run(demo, "hydra/launcher=joblib", "pipeline.fps=10,15,20,25", "-m")

    jobs = runs(demo)
    assert len(jobs) == 4
    renderer = [statuses(job)["Frame Renderer"] for job in jobs]
    assert sorted(renderer) == ["hit", "hit", "hit", "miss"], output
    assert len(renderer_records(demo)) == 4  # one computed, three reused: each holds them now
    for job in jobs:
        assert len(list((job / "frames").glob("*.png"))) == FRAMES


def test_a_run_killed_in_the_renderer_resumes_from_it(demo: Path) -> None:
    bigger = ("pipeline.width=1280", "pipeline.height=960")  # slower frames: time to kill it
    process = start_nexus(demo, "case=demo", "tracking.enabled=false", *bigger)
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while time.monotonic() < deadline and not partial:
        partial = [
            p
            for p in (demo / "outputs" / "demo").glob("*/.partial-*frames")
            if len(list(p.iterdir())) > 5
        ]
        time.sleep(0.05)
    assert partial, "the renderer never started"
    workers = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    for pid in workers:  # the renderer's workers outlive a SIGKILLed parent: not this test's
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    [killed] = runs(demo)
    assert renderer_records(demo) == []  # nothing points at the partial frames

    output = run(demo, *bigger)

    resumed = runs(demo)[-1]
    assert statuses(resumed)["Latency Compensator"] == "hit"
    assert statuses(resumed)["Frame Renderer"] == "miss"
    assert f"reused from outputs/demo/{killed.name}" in output
    assert len(list((resumed / "frames").glob("*.png"))) == FRAMES
    assert json.loads((resumed / "run.json").read_text())["status"] == "completed"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_a_deleted_or_edited_origin_is_a_miss_not_a_crash(demo: Path) -> None:
    run(demo)
    [first] = runs(demo)
    shutil.rmtree(first)
    run(demo)
    second = runs(demo)[-1]
    assert statuses(second) == dict.fromkeys(STEPS, "miss")

    frame = second / "frames" / "frame_00003.png"
    frame.chmod(0o644)
    frame.write_bytes(frame.read_bytes()[:-10] + b"0123456789")
    output = run(demo)
    third = runs(demo)[-1]
    assert statuses(third)["Frame Renderer"] == "miss"
    assert "frame_00003.png" in cache_of(third)["Frame Renderer"]["reasons"][0]
    assert "Frame Renderer: runs (rendered_frames of" in output
    assert files_of(third)["frames/frame_00004.png"] == files_of(second)["frames/frame_00004.png"]


def test_cache_false_and_rerun_force_the_computation(demo: Path) -> None:
    run(demo)
    run(demo, "cache=false")
    assert statuses(runs(demo)[-1]) == dict.fromkeys(STEPS, "off")

    run(demo, "rerun=Frame Renderer")
    assert statuses(runs(demo)[-1]) == {
        "Latency Compensator": "hit",
        "Frame Renderer": "refresh",
        "Video Creator": "refresh",
    }
    output = run(demo, "rerun=Frame Rendrer", code=1)
    assert "unknown step in rerun=: 'Frame Rendrer'" in output
    assert "did you mean 'Frame Renderer'?" in output


STEPS_MODULE = '''
import random
from typing import Annotated

from pydantic import BaseModel

from nexus import DataSink, DataSource, RunContext, plugin


class NoiseConfig(BaseModel):
    noise: Annotated[dict | None, DataSink(name="noise")] = None


@plugin(name="Noise", default_config=NoiseConfig, cache=False)
def noise(config: NoiseConfig) -> dict:
    """Random on purpose."""
    return {"value": random.random()}


class ReadConfig(BaseModel):
    noise: Annotated[dict, DataSource(name="noise")]
    copy: Annotated[dict | None, DataSink(name="copy")] = None


@plugin(name="Peek", default_config=ReadConfig)
def peek(config: ReadConfig, context: RunContext) -> dict:
    """Asks for the context: it could read anything."""
    return dict(config.noise)


class DeclaredConfig(BaseModel):
    noise: Annotated[dict, DataSource(name="noise")]
    kept: Annotated[dict | None, DataSink(name="kept")] = None


@plugin(name="Declared", default_config=DeclaredConfig, cache=True)
def declared(config: DeclaredConfig, context: RunContext) -> dict:
    """Asks for the context, but says it reads only its inputs."""
    return {"rounded": round(config.noise["value"], 1)}


class DiceConfig(BaseModel):
    roll: Annotated[dict | None, DataSink(name="roll")] = None


@plugin(name="Dice", default_config=DiceConfig)
def dice(config: DiceConfig) -> dict:
    """Random, but not marked so."""
    return {"value": random.random()}
'''


def _random_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(REPO / "conf", project / "conf")
    (project / "plugins").mkdir()
    (project / "plugins" / "random_steps.py").write_text(STEPS_MODULE)
    (project / "cases" / "dice").mkdir(parents=True)
    (project / "cases" / "dice" / "case.yaml").write_text(
        "io_mapping:\n  roll: {path: roll.json}\nsteps: [Dice]\n"
    )
    return project


def test_a_step_that_is_not_deterministic_is_named_when_it_is_rerun(tmp_path: Path) -> None:
    project = _random_project(tmp_path)
    assert nexus(project, "case=dice", "tracking.enabled=false").code == 0
    again = nexus(project, "case=dice", "tracking.enabled=false", "rerun=Dice")
    assert again.code == 0, again.stderr
    assert "Dice wrote other bytes than in outputs/dice/" in again.stdout
    assert "@plugin(..., cache=False)" in again.stdout


def test_plugins_that_must_run_do_and_the_steps_after_them_are_keyed_on_content(
    tmp_path: Path,
) -> None:
    project = _random_project(tmp_path)
    (project / "cases" / "noisy").mkdir(parents=True)
    (project / "cases" / "noisy" / "case.yaml").write_text(
        "io_mapping:\n"
        "  noise: {path: noise.json}\n  copy: {path: copy.json}\n  kept: {path: kept.json}\n"
        "steps: [Noise, Peek, Declared]\n"
    )
    for _ in range(2):
        result = nexus(project, "case=noisy", "tracking.enabled=false")
        assert result.code == 0, result.stderr
    found = sorted((project / "outputs" / "noisy").glob("*/run.json"))
    second = json.loads(found[1].read_text())
    by_step = {s["name"]: s["cache"] for s in second["steps"]}
    assert by_step["Noise"]["status"] == "uncacheable"
    assert "cache=False" in by_step["Noise"]["reasons"][0]
    assert by_step["Peek"]["status"] == "uncacheable"
    assert "context" in by_step["Peek"]["reasons"][0]
    assert by_step["Declared"]["status"] == "miss"  # the noise is new, so is its input
    noise = [json.loads((p.parent / "noise.json").read_text())["value"] for p in found]
    assert noise[0] != noise[1]


def test_mlflow_records_the_reuse_and_the_reused_metrics(demo: Path) -> None:
    for _ in range(2):
        result = nexus(demo, "case=demo")
        assert result.code == 0, result.stderr
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{demo / 'mlflow.db'}")
    [experiment] = [e for e in client.search_experiments() if e.name == "demo"]
    latest, first = client.search_runs([experiment.experiment_id], order_by=["start_time DESC"])
    assert latest.data.tags["nexus.cache.frame_renderer"] == "hit"
    assert latest.data.tags["nexus.reused_from.frame_renderer"].endswith(
        json.loads((runs(demo)[0] / "run.json").read_text())["run_dir"].split("/")[-1]
    )
    assert first.data.tags["nexus.cache.frame_renderer"] == "miss"
    assert latest.data.metrics["cache.seconds_saved"] > 0
    assert latest.data.metrics["rmse"] == first.data.metrics["rmse"]


def test_only_takes_inputs_from_the_run_made_with_the_current_parameters(demo: Path) -> None:
    run(demo, "pipeline.zoom_factor=3")
    run(demo)
    matching, newest = runs(demo)

    output = run(demo, "pipeline.zoom_factor=3", "only=Video Creator")
    manifest = json.loads((runs(demo)[-1] / "run.json").read_text())
    assert manifest["inputs_from"] == str(matching)
    assert manifest["inputs_origin"]["rendered_frames"]["differs"] == []
    assert "warning" not in output.lower()

    output = run(demo, "pipeline.zoom_factor=4", "only=Video Creator")
    manifest = json.loads((runs(demo)[-1] / "run.json").read_text())
    assert manifest["inputs_from"] == str(newest)
    assert manifest["inputs_origin"]["rendered_frames"]["differs"] == [
        "Frame Renderer: zoom_factor 5.0 -> 4.0"
    ]
    assert "zoom_factor 5.0 -> 4.0" in output


def test_only_compares_the_parameters_of_the_steps_upstream_too(demo: Path) -> None:
    """Frames drawn from other predicted states do not match, though the renderer's did."""
    run(demo)
    run(demo, "pipeline.latency_to_compensate_s=0.3")
    matching, newest = runs(demo)

    output = run(demo, "only=Video Creator")
    manifest = json.loads((runs(demo)[-1] / "run.json").read_text())
    assert manifest["inputs_from"] == str(matching)
    assert manifest["inputs_origin"]["rendered_frames"]["differs"] == []
    assert "warning" not in output.lower()

    run(demo, "pipeline.latency_to_compensate_s=0.1", "only=Video Creator")
    manifest = json.loads((runs(demo)[-1] / "run.json").read_text())
    assert manifest["inputs_from"] == str(newest)
    assert manifest["inputs_origin"]["rendered_frames"]["differs"] == [
        "Latency Compensator: latency_to_compensate_s 0.3 -> 0.1"
    ]


def test_status_on_a_fresh_clone_says_everything_runs_and_makes_nothing(demo: Path) -> None:
    shutil.rmtree(demo / "cases" / "demo" / "raw_data")
    result = nexus(demo, "status", "case=demo")
    assert result.code == 0, result.stderr
    assert "its raw data is not generated yet; a run generates it" in result.stdout
    assert not (demo / "cases" / "demo" / "raw_data").exists()
    assert not (demo / "outputs").exists()
