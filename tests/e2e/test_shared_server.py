"""Tracking for clusters: jobs in other processes record to a shared `mlflow server`.

A real server on 127.0.0.1 with its own store and artifact folder; the project never gets
a local `mlflow.db`, so every run the server shows came through it.
"""

from __future__ import annotations

import pytest
from e2e_helpers import MlflowServer, manifests, nexus, params, tags
from scale_helpers import LATENCIES, latency_sweep, make_short_demo


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One server for the module (the tests use different experiments); stopped at its end."""
    folder = tmp_path_factory.mktemp("server")
    running = MlflowServer(f"sqlite:///{folder / 'server.db'}", folder)
    yield running
    running.stop()


def _sweep(server, experiment: str) -> tuple[dict, list[dict]]:
    runs = server.runs(server.experiment(experiment)["experiment_id"])
    [parent] = [r for r in runs if tags(r).get("nexus.kind") == "sweep"]
    children = [r for r in runs if tags(r).get("mlflow.parentRunId") == parent["info"]["run_id"]]
    return parent, children


def test_a_joblib_sweep_of_the_demo_records_on_the_shared_server(tmp_path, server):
    project = make_short_demo(tmp_path)

    result = nexus(
        project,
        *latency_sweep(),
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"tracking.uri={server.url}",
    )

    assert result.code == 0, result.stderr
    assert not (project / "mlflow.db").exists()
    parent, children = _sweep(server, "demo")
    assert parent["info"]["status"] == "FINISHED"
    assert [c["info"]["status"] for c in children] == ["FINISHED"] * 3
    assert sorted(params(c)["pipeline.latency_to_compensate_s"] for c in children) == list(
        LATENCIES
    )
    jobs = manifests(project / "outputs" / "demo" / "sweeps")
    assert {m["mlflow_run_id"] for m in jobs} == {c["info"]["run_id"] for c in children}
    # The artifacts went through the server to its own folder: the video, the manifest...
    child = children[0]["info"]["run_id"]
    assert server.artifacts(child, "outputs") == [
        "outputs/demo.mp4",
        "outputs/predicted_states.parquet",
    ]
    served = server.get("/get-artifact", path="run.json", run_uuid=child)
    assert served["status"] == "completed"
    assert server.artifacts(parent["info"]["run_id"]) == ["summary.csv", "summary.png"]


def test_a_server_named_by_the_environment_reaches_every_job(toy_project, server):
    """`MLFLOW_TRACKING_URI` of the submitting shell travels in each job's config."""
    result = nexus(
        toy_project,
        "case=toy",
        "pipeline.factor=1,2",
        "-m",
        env={"MLFLOW_TRACKING_URI": server.url},
    )

    assert result.code == 0, result.stderr
    assert not (toy_project / "mlflow.db").exists()
    parent, children = _sweep(server, "toy")
    assert parent["info"]["status"] == "FINISHED"
    assert [c["info"]["status"] for c in children] == ["FINISHED"] * 2
    jobs = sorted(toy_project.glob("outputs/toy/sweeps/*/*/.hydra/overrides.yaml"))
    assert len(jobs) == 2
    assert all(f"tracking.uri='{server.url}'" in job.read_text() for job in jobs)
    assert all("tracking.uri" not in tags(c)["mlflow.runName"] for c in children)
