"""A parameter search with `hydra/sweeper=optuna`: each job returns the objective's metric.

The demo's measurements are 0.2 s late, and its compensator logs the RMSE of its predictions,
so a search of `pipeline.latency_to_compensate_s` that minimises `rmse` must land near 0.2.
The search runs the compensator alone (`only=`): the other steps do not change the RMSE.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from e2e_helpers import REPO, Result, manifests, nexus
from scale_helpers import make_short_demo, sweep_runs

TRUE_LATENCY_S = 0.2
SEARCH = (
    "case=demo",
    "only=Latency Compensator",
    "hydra/sweeper=optuna",
    "pipeline.latency_to_compensate_s=interval(0,0.5)",
    "hydra.sweeper.n_trials=12",
    "hydra.sweeper.sampler.seed=7",  # the same trials on every run of the test
    "-m",
)


def _toy_search(project: Path, trials: int, *args: str) -> Result:
    """An Optuna search of the toy case over pipeline.factor in [1, 2]."""
    return nexus(
        project,
        "case=toy",
        "hydra/sweeper=optuna",
        "pipeline.factor=interval(1,2)",
        f"hydra.sweeper.n_trials={trials}",
        *args,
        "-m",
    )


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return make_short_demo(tmp_path)


def test_the_search_finds_the_true_latency(demo: Path):
    result = nexus(demo, *SEARCH)

    assert result.code == 0, result.stderr
    match = re.search(
        r"best of 12 jobs \(minimize rmse\): pipeline\.latency_to_compensate_s=([\d.]+) "
        r"-> rmse=([\d.]+)",
        result.stdout,
    )
    assert match, result.stdout
    best_latency, best_rmse = float(match.group(1)), float(match.group(2))
    assert best_latency == pytest.approx(TRUE_LATENCY_S, abs=0.05)

    sweep_dir = next((demo / "outputs" / "demo" / "sweeps").iterdir())
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert results["best_value"] == pytest.approx(best_rmse, rel=1e-5)
    assert [m["status"] for m in manifests(sweep_dir)] == ["completed"] * 12

    parent, children = sweep_runs(f"sqlite:///{demo / 'mlflow.db'}")
    assert len(children) == 12
    assert {c.info.status for c in children} == {"FINISHED"}
    assert parent.info.status == "FINISHED"
    rmses = [c.data.metrics["rmse"] for c in children]
    assert parent.data.metrics["best.rmse"] == pytest.approx(min(rmses))
    logged = float(parent.data.params["best.pipeline.latency_to_compensate_s"])
    assert logged == pytest.approx(best_latency, rel=1e-5)
    from mlflow.tracking import MlflowClient

    store = MlflowClient(f"sqlite:///{demo / 'mlflow.db'}")
    assert "optimization_results.yaml" in [a.path for a in store.list_artifacts(parent.info.run_id)]


def test_the_search_direction_follows_the_objective(toy_project: Path):
    result = _toy_search(toy_project, 4, "objective.metric=total", "objective.direction=maximize")

    assert result.code == 0, result.stderr
    assert "Directions: ['maximize']" in result.stdout
    _, children = sweep_runs(f"sqlite:///{toy_project / 'mlflow.db'}", "toy")
    best = max(c.data.metrics["total"] for c in children)
    assert "best of 4 jobs (maximize total): pipeline.factor=" in result.stdout
    assert re.search(rf"-> total={best:.6g}$", result.stdout, re.M)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            (),
            "nexus: hydra/sweeper=optuna needs an objective: objective.metric is not set\n"
            "  name a metric a step logs through `metrics`, e.g. objective.metric=rmse",
            id="no-objective",
        ),
        pytest.param(
            ("objective.metric=total", "hydra.sweeper.direction=maximize"),
            "nexus: hydra.sweeper.direction=maximize contradicts objective.direction=minimize\n"
            "  set the direction once: objective.direction=maximize",
            id="two-directions",
        ),
        pytest.param(
            ("objective.metric=total", "objective.direction=up"),
            "nexus: objective.direction = 'up': expected minimize or maximize",
            id="bad-direction",
        ),
    ],
)
def test_a_search_without_a_clear_objective_fails_before_any_job(toy_project, args, message):
    result = _toy_search(toy_project, 2, *args)

    assert result.code == 1
    assert message in result.stderr
    assert list(toy_project.glob("outputs/toy/sweeps/*/*/run.json")) == []
    if (toy_project / "mlflow.db").exists():  # no sweep run was opened either
        from mlflow.tracking import MlflowClient

        assert MlflowClient(f"sqlite:///{toy_project / 'mlflow.db'}").search_runs(["0"]) == []


def test_the_demo_case_names_its_objective():
    """`python -m nexus case=demo hydra/sweeper=optuna ...` works without naming a metric."""
    case = yaml.safe_load((REPO / "cases" / "demo" / "case.yaml").read_text())
    assert case["objective"] == {"metric": "rmse", "direction": "minimize"}
    assert "objective" not in yaml.safe_load((REPO / "conf" / "config.yaml").read_text())


def test_a_search_on_a_metric_no_step_logs_fails_its_trials(toy_project):
    result = _toy_search(toy_project, 2, "objective.metric=speed")

    assert result.code == 1
    assert "nexus: 2 of 2 jobs of the sweep failed" in result.stderr
    table = result.stdout[result.stdout.index("2 jobs, 0 completed, 2 failed") :]
    assert "objective.metric 'speed' was not logged by this run" in table
    jobs = manifests(toy_project / "outputs" / "toy" / "sweeps")
    assert [m["error"]["message"].splitlines()[:2] for m in jobs] == [
        ["objective.metric 'speed' was not logged by this run", "  metrics it logged: total"]
    ] * 2
