"""A sweep's bad values: all found before the first job where the sweeper knows them in
advance (the basic sweeper), else each failed job's message on the console."""

from __future__ import annotations

from pathlib import Path

from e2e_helpers import nexus


def test_every_bad_value_of_a_grid_sweep_is_reported_before_any_job(toy_project: Path) -> None:
    result = nexus(
        toy_project,
        "case=toy",
        "pipeline.factor=1,-3,abc",
        "pipeline.sleep_s=range(0,2)",
        "pipeline.rows=-1,0",
        "-m",
    )

    assert result.code == 1
    assert result.stderr == (
        "nexus: 3 invalid values in the sweep of case 'toy', found before any job ran\n"
        "  pipeline.factor = -3 (from the command line): Input should be greater than 0 "
        "[step 'Double'] (value 2 of 3)\n"
        "  pipeline.factor = 'abc' (from the command line): Input should be a valid number, "
        "unable to parse string as a number [step 'Double'] (value 3 of 3)\n"
        "  pipeline.rows = -1 (from the command line): Input should be greater than or equal "
        "to 0 [step 'Double'] (value 1 of 2)\n"
        "  fix or drop them: python -m nexus case=toy pipeline.factor=... pipeline.sleep_s=... "
        "pipeline.rows=... -m\n"
    )
    assert "Launching" not in result.stdout  # no job started
    assert list(toy_project.glob("outputs/toy/sweeps/*")) == []
    if (toy_project / "mlflow.db").exists():  # nor was a sweep run opened in MLflow
        from mlflow.tracking import MlflowClient

        client = MlflowClient(f"sqlite:///{toy_project / 'mlflow.db'}")
        assert client.get_experiment_by_name("toy") is None


def test_a_value_a_search_chose_badly_shows_its_job_s_message(toy_project: Path) -> None:
    result = nexus(
        toy_project,
        "case=toy",
        "hydra/sweeper=optuna",
        "pipeline.factor=choice(-3)",
        "objective.metric=total",
        "hydra.sweeper.n_trials=1",
        "tracking.enabled=false",
        "-m",
    )

    assert result.code == 1
    lines = result.stdout.splitlines()
    job = lines.index("job #0: 1 invalid parameter in case 'toy'")
    assert lines[job + 1] == (
        "  pipeline.factor = -3 (from the command line): Input should be greater than 0 "
        "[step 'Double']"
    )
