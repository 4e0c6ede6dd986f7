"""Processes killed outright (SIGKILL): no truncated output, and the run is accounted for later."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
from e2e_helpers import nexus, start_nexus, wait_for


def _mlflow_status(project: Path, run_id: str) -> str:
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{project / 'mlflow.db'}").get_run(run_id).info.status


def test_sigkill_during_a_large_write_truncates_nothing(toy_project: Path) -> None:
    outputs = toy_project / "outputs" / "toy"
    kills, truncated, seen = 0, 0, set()
    for _ in range(3):
        process = start_nexus(
            toy_project, "case=toy", "pipeline.rows=3000000", output=subprocess.DEVNULL
        )
        partial = wait_for(  # the data being saved (.partial-*), not a run.json being written
            lambda: next(
                (
                    p
                    for p in outputs.rglob(".partial-*")
                    if p.parent not in seen and not p.name.endswith(".run.json")
                ),
                None,
            ),
            every=0.01,  # a partial file lives for moments
        )
        seen.add(partial.parent)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        kills += 1
        run_dir = partial.parent
        final = run_dir / "doubled.parquet"
        if final.exists():  # the rename came first: then the file must be whole
            try:
                pq.read_table(final)
            except Exception:
                truncated += 1
        assert json.loads((run_dir / "run.json").read_text())["status"] == "running"
    assert (kills, truncated) == (3, 0)

    # Each next run of the case finds the cut-off runs (here: the last one) and accounts for them.
    result = nexus(toy_project, "case=toy")
    assert result.code == 0, result.stderr
    assert "was cut off (its process is gone): marked interrupted" in result.stdout
    killed = [json.loads(p.read_text()) for p in outputs.glob("*/run.json")]
    killed = [m for m in killed if m["status"] != "completed"]
    assert [m["status"] for m in killed] == ["interrupted"] * 3
    assert all(m["error"]["type"] == "ProcessGone" for m in killed)
    assert not list(outputs.rglob(".*partial*")), "the cut-off runs' partial files were kept"
    assert {_mlflow_status(toy_project, m["mlflow_run_id"]) for m in killed} == {"KILLED"}


def test_a_killed_joblib_worker_costs_no_other_job(toy_project: Path) -> None:
    sweep = start_nexus(
        toy_project,
        "case=toy",
        "pipeline.sleep_s=0,0.01,60,0.02",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "-m",
    )
    sweeps = toy_project / "outputs" / "toy" / "sweeps"

    def manifests() -> list[dict]:
        found = []
        for path in sweeps.glob("*/*/run.json"):
            try:
                found.append(json.loads(path.read_text()))
            except ValueError:
                continue
        return found

    def victim_once_others_done() -> dict | None:
        found = manifests()
        done = [m for m in found if m["status"] == "completed"]
        slow = [m for m in found if "pipeline.sleep_s=60" in m["overrides"] and m["steps"]]
        return slow[0] if len(done) == 3 and slow else None

    victim = wait_for(victim_once_others_done, every=0.1)
    os.kill(victim["pid"], signal.SIGKILL)
    stdout, stderr = sweep.communicate(timeout=120)

    assert sweep.returncode == 1
    assert "Traceback" not in stderr
    assert "4 jobs, 3 completed, 1 failed" in stdout
    by_sleep = {next(o for o in m["overrides"] if "sleep_s" in o): m for m in manifests()}
    assert by_sleep["pipeline.sleep_s=60"]["status"] == "interrupted"
    assert [by_sleep[k]["status"] for k in sorted(by_sleep) if k != "pipeline.sleep_s=60"] == [
        "completed"
    ] * 3
    statuses = {k: _mlflow_status(toy_project, m["mlflow_run_id"]) for k, m in by_sleep.items()}
    assert statuses.pop("pipeline.sleep_s=60") == "KILLED"
    assert set(statuses.values()) == {"FINISHED"}
    for m in by_sleep.values():  # the completed jobs' outputs survived
        if m["status"] == "completed":
            assert pq.read_table(Path(m["run_dir"]) / "doubled.parquet").num_rows == 3


def test_ctrl_c_in_a_sweep_leaves_no_run_running(toy_project: Path) -> None:
    sweep = start_nexus(toy_project, "case=toy", "pipeline.sleep_s=0,60", "-m")
    sweeps = toy_project / "outputs" / "toy" / "sweeps"

    def second_job_running() -> bool:
        for path in sweeps.glob("*/1/run.json"):
            with contextlib.suppress(ValueError):
                return bool(json.loads(path.read_text())["steps"])
        return False

    wait_for(second_job_running, every=0.1)
    sweep.send_signal(signal.SIGINT)
    stdout, stderr = sweep.communicate(timeout=120)

    assert sweep.returncode == 130, stdout + stderr
    assert "nexus: interrupted" in stderr
    assert "2 jobs, 1 completed, 1 failed" in stdout

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{toy_project / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("toy").experiment_id])
    statuses = sorted((r.data.tags.get("nexus.kind"), r.info.status) for r in runs)
    assert statuses == [("job", "FINISHED"), ("job", "KILLED"), ("sweep", "KILLED")]
