"""MLflow tracking seen the way a user sees it: through a real `mlflow server` and its REST API."""

from __future__ import annotations

import csv
import subprocess
import sys
import urllib.request
from pathlib import Path

from e2e_helpers import manifests, metrics, nexus, params, tags


def _store(project: Path) -> str:
    return f"sqlite:///{project / 'mlflow.db'}"


def _children_and_parent(runs: list[dict]) -> tuple[list[dict], dict]:
    parents = [r for r in runs if tags(r).get("nexus.kind") == "sweep"]
    assert len(parents) == 1, [tags(r).get("mlflow.runName") for r in runs]
    children = [
        r for r in runs if tags(r).get("mlflow.parentRunId") == parents[0]["info"]["run_id"]
    ]
    return children, parents[0]


def test_a_sweep_is_a_parent_run_with_one_child_per_job(toy_project, mlflow_server_for):
    result = nexus(toy_project, "case=toy", "pipeline.factor=1,2,3", "-m")
    assert result.code == 0, result.stderr

    server = mlflow_server_for(_store(toy_project), toy_project)
    experiment = server.experiment("toy")
    children, parent = _children_and_parent(server.runs(experiment["experiment_id"]))

    assert parent["info"]["status"] == "FINISHED"
    assert sorted(params(c)["pipeline.factor"] for c in children) == ["1", "2", "3"]
    assert {c["info"]["status"] for c in children} == {"FINISHED"}
    # The demo's values: total = (1 + 2 + 3) * factor, logged by the plugin through `metrics`.
    assert sorted(metrics(c)["total"] for c in children) == [6.0, 12.0, 18.0]
    child = children[0]
    assert params(child)["case"] == "toy"
    assert params(child)["steps"] == "Double, Sum"
    assert "seconds.double" in metrics(child)
    assert "pipeline.factor=" in tags(child)["nexus.config.overrides"]
    assert Path(tags(child)["nexus.run_dir"]).is_dir()
    assert server.artifacts(child["info"]["run_id"]) == [
        "config",
        "nexus.log",
        "outputs",
        "run.json",
    ]
    assert server.artifacts(child["info"]["run_id"], "outputs") == [
        "outputs/doubled.parquet",
        "outputs/summary.json",
    ]
    assert server.artifacts(parent["info"]["run_id"]) == ["summary.csv", "summary.png"]
    # run.json names its MLflow run, and the server serves the artifact itself.
    served = server.get("/get-artifact", path="run.json", run_uuid=child["info"]["run_id"])
    assert served["mlflow_run_id"] == child["info"]["run_id"]
    assert served["status"] == "completed"
    # The UI's page answers.
    with urllib.request.urlopen(server.url + "/", timeout=30) as page:
        assert page.status == 200
        assert b"<html" in page.read().lower()


def test_joblib_sweep_of_eight_jobs_on_a_fresh_store_loses_nothing(toy_project):
    values = ",".join(str(v) for v in range(1, 9))
    result = nexus(
        toy_project,
        "case=toy",
        f"pipeline.factor={values}",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=4",
        "-m",
    )
    assert result.code == 0, result.stderr
    assert "database is locked" not in result.stderr + result.stdout

    from mlflow.tracking import MlflowClient

    client = MlflowClient(_store(toy_project))
    experiment = client.get_experiment_by_name("toy")
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    parents = [r for r in runs if r.data.tags.get("nexus.kind") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert len(parents) == 1
    assert len(children) == 8
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert [r.info.status for r in runs] == ["FINISHED"] * 9
    assert sorted(float(r.data.params["pipeline.factor"]) for r in children) == list(range(1, 9))
    jobs = manifests(toy_project / "outputs" / "toy" / "sweeps")
    assert [m["status"] for m in jobs] == ["completed"] * 8
    assert {m["mlflow_run_id"] for m in jobs} == {r.info.run_id for r in children}


def test_a_failing_job_fails_its_run_while_the_others_finish(toy_project):
    result = nexus(toy_project, "case=toy", "pipeline.fail_on=2", "pipeline.factor=1,2,3", "-m")

    assert result.code == 1
    assert "1 of 3 jobs of the sweep failed" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    table = result.stdout[result.stdout.index("3 jobs, 2 completed, 1 failed") :]
    assert "factor 2.0 is the one that fails" in table
    assert "nexus.log" in table

    from mlflow.tracking import MlflowClient

    client = MlflowClient(_store(toy_project))
    runs = client.search_runs([client.get_experiment_by_name("toy").experiment_id])
    by_factor = {r.data.params.get("pipeline.factor"): r.info.status for r in runs}
    assert by_factor == {"1": "FINISHED", "2": "FAILED", "3": "FINISHED", None: "FAILED"}

    sweep_dir = next((toy_project / "outputs" / "toy" / "sweeps").iterdir())
    with open(sweep_dir / "summary.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["pipeline.factor"], r["status"]) for r in rows] == [
        ("1", "completed"),
        ("2", "failed"),
        ("3", "completed"),
    ]
    assert rows[0]["total"] == "6.0"
    assert (sweep_dir / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_tracking_to_a_server_uri(toy_project, tmp_path, mlflow_server_for):
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    server = mlflow_server_for(f"sqlite:///{server_dir / 'server.db'}", server_dir)

    result = nexus(toy_project, "case=toy", f"tracking.uri={server.url}")

    assert result.code == 0, result.stderr
    assert not (toy_project / "mlflow.db").exists()
    runs = server.runs(server.experiment("toy")["experiment_id"])
    assert [r["info"]["status"] for r in runs] == ["FINISHED"]
    assert "run.json" in server.artifacts(runs[0]["info"]["run_id"])
    assert manifests(toy_project / "outputs")[0]["mlflow_run_id"] == runs[0]["info"]["run_id"]


def test_tracking_disabled_never_imports_mlflow(toy_project):
    code = (
        "import sys; from nexus.cli.main import main; "
        "rc = main(['case=toy', 'tracking.enabled=false']); "
        "print('exit', rc, 'mlflow loaded:', any(m.split('.')[0] == 'mlflow' for m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=toy_project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "exit 0 mlflow loaded: False" in done.stdout, done.stderr
    assert not (toy_project / "mlflow.db").exists()
    assert manifests(toy_project / "outputs")[0]["mlflow_run_id"] is None


def test_an_inherited_mlflow_run_id_does_not_capture_the_jobs(toy_project):
    # mlflow#15713: with MLFLOW_RUN_ID set, mlflow.start_run() resumes that run in every job.
    # nexus creates each run through the client, so a stray variable changes nothing.
    stray = "0123456789abcdef0123456789abcdef"
    result = nexus(
        toy_project,
        "case=toy",
        "pipeline.factor=1,2",
        "hydra/launcher=joblib",
        "-m",
        env={"MLFLOW_RUN_ID": stray},
    )
    assert result.code == 0, result.stderr

    from mlflow.tracking import MlflowClient

    client = MlflowClient(_store(toy_project))
    runs = client.search_runs([client.get_experiment_by_name("toy").experiment_id])
    assert len({r.info.run_id for r in runs}) == 3
    assert stray not in {r.info.run_id for r in runs}
    assert [r.info.status for r in runs] == ["FINISHED"] * 3


def test_a_store_that_cannot_be_written_costs_the_record_not_the_run(toy_project, tmp_path):
    """Through the helper process (as here) and in-process alike: one message, exit 1."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    uri = f"sqlite:///{blocked / 'mlflow.db'}"

    result = nexus(toy_project, "case=toy", f"tracking.uri={uri}")

    assert result.code == 1
    assert "Traceback" not in result.stderr + result.stdout
    message = result.stderr.split("nexus: ", 1)[1]
    assert message.startswith("the steps completed, but MLflow could not record the run\n")
    assert f"(store: {uri})" in message
    assert "run with tracking.enabled=false" in message
    [manifest] = manifests(toy_project / "outputs" / "toy")
    assert manifest["status"] == "completed"
    assert manifest["mlflow_run_id"] is None
    assert all(o["size"] > 0 for s in manifest["steps"] for o in s["outputs"])
