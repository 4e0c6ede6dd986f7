"""A run as a user starts it: its directory, its manifest, its log, its console, its endings."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from e2e_helpers import manifests, nexus, start_nexus


def _run_dirs(project: Path, case: str = "toy") -> list[Path]:
    return sorted(p for p in (project / "outputs" / case).iterdir() if p.name != "sweeps")


def test_a_run_writes_its_outputs_manifest_and_log(toy_project):
    result = nexus(toy_project, "case=toy", "tracking.enabled=false")

    assert result.code == 0, result.stderr
    [run_dir] = _run_dirs(toy_project)
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["case"] == "toy"
    assert manifest["overrides"] == ["case=toy", "tracking.enabled=false"]
    assert [s["name"] for s in manifest["steps"]] == ["Double", "Sum"]
    assert all(s["status"] == "completed" and s["seconds"] >= 0 for s in manifest["steps"])
    assert manifest["steps"][0]["outputs"][0]["path"] == "doubled.parquet"
    assert (
        manifest["steps"][0]["outputs"][0]["size"] == (run_dir / "doubled.parquet").stat().st_size
    )
    assert manifest["metrics"] == {"total": 18.0}
    assert manifest["started"] <= manifest["finished"]
    assert set(manifest["code"]) == {"git_commit", "git_dirty"}
    assert json.loads((run_dir / "summary.json").read_text()) == {"sum": 18.0}
    assert {p.name for p in (run_dir / ".hydra").iterdir()} == {
        "config.yaml",
        "hydra.yaml",
        "overrides.yaml",
    }
    assert "[1/2] Double" in (run_dir / "nexus.log").read_text()
    assert not list(run_dir.glob(".*partial*"))


def test_a_failing_step_prints_one_message_and_logs_the_traceback(toy_project):
    result = nexus(toy_project, "case=toy", "pipeline.fail_on=3", "tracking.enabled=false")

    assert result.code == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("nexus: step 'Double' failed: ValueError: factor 3.0 is")
    assert "toy_steps.py" in result.stderr  # where in the plugin it failed
    [run_dir] = _run_dirs(toy_project)
    assert f"log: {run_dir / 'nexus.log'}" in result.stderr
    assert "Traceback" in (run_dir / "nexus.log").read_text()
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"]["type"] == "StepError"
    assert [s["status"] for s in manifest["steps"]] == ["failed"]
    assert not (run_dir / "doubled.parquet").exists()


def test_runs_started_in_the_same_second_get_their_own_directories(toy_project):
    processes = [
        start_nexus(toy_project, "case=toy", "tracking.enabled=false", output=subprocess.DEVNULL)
        for _ in range(3)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0]

    run_dirs = _run_dirs(toy_project)
    assert len(run_dirs) == 3
    assert [json.loads((d / "run.json").read_text())["status"] for d in run_dirs] == [
        "completed"
    ] * 3


def test_only_takes_produced_inputs_from_the_latest_run(toy_project):
    assert nexus(toy_project, "case=toy", "tracking.enabled=false").code == 0
    [first] = _run_dirs(toy_project)

    result = nexus(toy_project, "case=toy", "only=Sum", "tracking.enabled=false")

    assert result.code == 0, result.stderr
    second = next(d for d in _run_dirs(toy_project) if d != first)
    manifest = json.loads((second / "run.json").read_text())
    assert manifest["inputs_from"] == str(first)
    assert [s["name"] for s in manifest["steps"]] == ["Sum"]
    assert f"inputs from the earlier run {first}" in (second / "nexus.log").read_text()
    assert (second / "summary.json").exists()
    assert not (second / "doubled.parquet").exists()


def test_only_without_an_earlier_run_names_the_missing_input(toy_project):
    result = nexus(toy_project, "case=toy", "only=Sum", "tracking.enabled=false")

    assert result.code == 1
    assert "input 'doubled' of step 'Sum' is produced by step 'Double'" in result.stderr
    assert "python -m nexus case=toy" in result.stderr
    assert not (toy_project / "outputs").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_is_marked_interrupted_and_killed(toy_project, sig):
    process = start_nexus(toy_project, "case=toy", "pipeline.sleep_s=60")
    run_json = None
    deadline = time.monotonic() + 120
    while run_json is None and time.monotonic() < deadline:
        found = list((toy_project / "outputs").glob("toy/*/run.json"))
        manifest = json.loads(found[0].read_text()) if found else {}
        if manifest.get("steps"):
            run_json = found[0]
        time.sleep(0.2)
    assert run_json is not None, "the run never reached its first step"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert "Traceback" not in stderr
    manifest = json.loads(run_json.read_text())
    assert manifest["status"] == "interrupted"
    assert [(s["name"], s["status"]) for s in manifest["steps"]] == [("Double", "interrupted")]
    message = stderr[stderr.index("nexus: interrupted") :].splitlines()
    assert message == [
        "nexus: interrupted",
        f"  log: {run_json.parent / 'nexus.log'}",
        "  to resume, run the same command again: the steps that finished are reused",
        "    python -m nexus case=toy pipeline.sleep_s=60",
    ]

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{toy_project / 'mlflow.db'}")
    assert client.get_run(manifest["mlflow_run_id"]).info.status == "KILLED"


def test_the_console_script_is_python_m_nexus(toy_project):
    script = shutil.which("nexus")
    assert script is not None, "pip install -e . installs a 'nexus' console script"
    by_script = subprocess.run(
        [script, "case=toy", "--cfg", "job"],
        cwd=toy_project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    by_module = nexus(toy_project, "case=toy", "--cfg", "job")
    assert by_script.returncode == by_module.code == 0
    assert by_script.stdout == by_module.stdout
    assert "factor: 3" in by_module.stdout  # the case's value over the plugin default (2.0)
    assert "fail_on: null" in by_module.stdout  # plugin defaults are in the tree


def test_every_run_manifest_is_valid_json_when_runs_overlap(toy_project):
    result = nexus(toy_project, "case=toy", "pipeline.factor=1,2", "tracking.enabled=false", "-m")
    assert result.code == 0, result.stderr
    assert [m["status"] for m in manifests(toy_project / "outputs")] == ["completed"] * 2


def test_nexus_full_error_shows_the_traceback_on_the_console_too(toy_project):
    quiet = nexus(toy_project, "case=toy", "pipeline.fail_on=3", "tracking.enabled=false")
    loud = nexus(
        toy_project,
        "case=toy",
        "pipeline.fail_on=3",
        "tracking.enabled=false",
        env={"NEXUS_FULL_ERROR": "1"},
    )

    assert quiet.code == loud.code == 1
    assert "Traceback" not in quiet.stderr
    assert "Traceback (most recent call last)" in loud.stderr
    assert 'raise ValueError(f"factor {config.factor} is the one that fails")' in loud.stderr
    assert loud.stderr.rstrip().endswith(quiet.stderr.rstrip().splitlines()[-1])


def test_inputs_from_a_folder_that_does_not_exist_says_not_found(toy_project):
    nexus(toy_project, "case=toy", "tracking.enabled=false")  # an earlier run to name
    [earlier] = (toy_project / "outputs" / "toy").iterdir()

    result = nexus(
        toy_project,
        "case=toy",
        "only=Sum",
        "inputs_from=outputs/toy/nope",
        "tracking.enabled=false",
    )

    assert result.code == 1
    assert result.stderr == (
        "nexus: 1 problem in the steps of case 'toy'\n"
        f"  inputs_from= folder not found: {toy_project / 'outputs/toy/nope'} (a relative path "
        f"starts at the project root); the latest run of case 'toy' is outputs/toy/{earlier.name}\n"
    )
