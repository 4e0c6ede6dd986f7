"""Hydra's launchers run the demo's sweep in other processes; MLflow still sees one sweep.

Each test runs the README's 3-job latency sweep of the demo, shortened to a few frames per
job, through a real launcher, and checks what a user checks: three completed run
directories, and in MLflow one parent run with three FINISHED children.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from e2e_helpers import manifests, nexus
from scale_helpers import (
    LATENCIES,
    RAY_ENV,
    SHORT_FRAMES,
    RayCluster,
    latency_sweep,
    make_short_demo,
    processes_mentioning,
    sweep_runs,
)

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None,
    reason="the Ray launcher is an extra: pip install -e '.[ray]' (.ci/run installs it)",
)


@pytest.fixture
def short_demo(tmp_path: Path) -> Path:
    return make_short_demo(tmp_path)


def _assert_one_sweep_of_three_jobs(project: Path) -> None:
    sweeps = list((project / "outputs" / "demo" / "sweeps").iterdir())
    assert len(sweeps) == 1
    jobs = manifests(sweeps[0])
    assert [m["status"] for m in jobs] == ["completed"] * 3
    run_dirs = sorted(p.parent for p in sweeps[0].glob("*/run.json"))
    assert [p.name for p in run_dirs] == ["0", "1", "2"]
    for run_dir in run_dirs:
        assert len(list((run_dir / "frames").glob("*.png"))) == SHORT_FRAMES
        assert (run_dir / "demo.mp4").stat().st_size > 0

    parent, children = sweep_runs(f"sqlite:///{project / 'mlflow.db'}")
    assert parent.info.status == "FINISHED"
    assert [c.info.status for c in children] == ["FINISHED"] * 3
    latencies = sorted(c.data.params["pipeline.latency_to_compensate_s"] for c in children)
    assert latencies == list(LATENCIES)
    assert {m["mlflow_run_id"] for m in jobs} == {c.info.run_id for c in children}
    assert all(c.data.metrics["rmse"] > 0 for c in children)


def test_submitit_local_runs_each_job_in_its_own_process(short_demo):
    result = nexus(short_demo, *latency_sweep(), "hydra/launcher=submitit_local")

    assert result.code == 0, result.stderr
    _assert_one_sweep_of_three_jobs(short_demo)
    # submitit ran each job as a process of its own, with its own log beside the sweep.
    sweep_dir = next((short_demo / "outputs" / "demo" / "sweeps").iterdir())
    job_logs = list(sweep_dir.glob(".submitit/*/*_log.out"))
    assert len(job_logs) == 3
    assert all("run completed" in log.read_text() for log in job_logs)
    assert "sweep: 3/3 jobs done" in result.stdout


@needs_ray
def test_ray_runs_the_sweep_on_an_existing_cluster(short_demo):
    cluster = RayCluster()
    try:
        result = nexus(
            short_demo,
            *latency_sweep(),
            "hydra/launcher=ray",
            f"hydra.launcher.ray.init.address={cluster.address}",
            env=RAY_ENV,
        )
        assert result.code == 0, result.stderr
        _assert_one_sweep_of_three_jobs(short_demo)
        assert "Connecting to existing Ray cluster" in result.stdout + result.stderr
    finally:
        cluster.stop()
    assert cluster.alive() == []


@needs_ray
def test_ray_starts_a_local_cluster_and_stops_it(short_demo, tmp_path):
    temp_dir = Path("/tmp") / f"nexus-ray-{tmp_path.name}"[:40]  # Ray's socket paths stay short
    result = nexus(
        short_demo,
        *latency_sweep(),
        "hydra/launcher=ray",
        "+hydra.launcher.ray.init.include_dashboard=false",
        f"+hydra.launcher.ray.init._temp_dir={temp_dir}",
        env=RAY_ENV,
    )

    assert result.code == 0, result.stderr
    _assert_one_sweep_of_three_jobs(short_demo)
    assert "Started a local Ray instance" in result.stdout + result.stderr
    assert processes_mentioning(str(temp_dir)) == []  # the cluster ended with the sweep


SLURM_SETTINGS = (
    "hydra.launcher.partition=gpu",
    "hydra.launcher.timeout_min=240",
    "hydra.launcher.cpus_per_task=8",
    "hydra.launcher.mem_gb=32",
    "hydra.launcher.gpus_per_node=1",
    "hydra.launcher.array_parallelism=16",
    "hydra.launcher.account=my_project",
    "hydra.launcher.setup=['source ~/venv/bin/activate']",
)


def test_the_documented_slurm_settings_configure_the_submitit_launcher(short_demo):
    """No SLURM here: the settings the docs tell users to change must compose and land."""
    page = (Path(__file__).parents[2] / "docs/sweeps.md").read_text()
    for setting in SLURM_SETTINGS:
        assert setting in page, setting

    result = nexus(
        short_demo,
        "case=demo",
        "hydra/launcher=submitit_slurm",
        *SLURM_SETTINGS,
        "--cfg",
        "hydra",
        "--package",
        "hydra.launcher",
    )

    assert result.code == 0, result.stderr
    shown = result.stdout
    assert "submitit_launcher.SlurmLauncher" in shown
    for line in (
        "partition: gpu",
        "timeout_min: 240",
        "cpus_per_task: 8",
        "mem_gb: 32",
        "gpus_per_node: 1",
        "array_parallelism: 16",
        "account: my_project",
    ):
        assert line in shown, line
    assert "source ~/venv/bin/activate" in shown
