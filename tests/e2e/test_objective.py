"""A case's own objective: the best job of its sweeps; no objective, no warning; one unlogged,
one warning at the end of the sweep (not one a job)."""

from __future__ import annotations

from pathlib import Path

from e2e_helpers import nexus

SWEEP = ("case=toy", "pipeline.factor=1,2,3", "tracking.enabled=false", "-m")


def _with_objective(project: Path, objective: str) -> None:
    case = project / "cases" / "toy" / "case.yaml"
    case.write_text(case.read_text() + objective)


def test_a_sweep_without_an_objective_warns_of_none(toy_project: Path) -> None:
    result = nexus(toy_project, *SWEEP)

    assert result.code == 0, result.stderr
    assert "objective" not in result.stdout + result.stderr
    assert "best of" not in result.stdout


def test_the_case_s_objective_picks_the_best_job(toy_project: Path) -> None:
    _with_objective(toy_project, "objective: {metric: total, direction: maximize}\n")

    result = nexus(toy_project, *SWEEP)

    assert result.code == 0, result.stderr
    assert "best of 3 jobs (maximize total): pipeline.factor=3 -> total=18" in result.stdout
    assert "warning" not in result.stdout + result.stderr
    [sweep_dir] = (toy_project / "outputs" / "toy" / "sweeps").iterdir()
    shown = sweep_dir.relative_to(toy_project)  # nexus ran in the project's root
    summary = f"summary: {shown / 'summary.csv'}, {shown / 'summary.png'}"
    assert summary in result.stdout.splitlines()  # where the files are, said on the console
    assert (sweep_dir / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_an_objective_no_job_logs_is_said_once_at_the_end(toy_project: Path) -> None:
    _with_objective(toy_project, "objective: {metric: speed}\n")

    result = nexus(toy_project, *SWEEP)

    assert result.code == 0, result.stderr
    out = result.stdout + result.stderr
    assert out.count("speed") == 1, out  # the warning, once; not one a job
    warning = out[out.index("warning: ") :].splitlines()[:2]
    assert warning == [
        "warning: objective.metric 'speed' was not logged by any of the 3 completed jobs "
        "(they logged: total)",
        "  set the case's own objective in its case.yaml (objective: {metric: NAME}), "
        "or objective.metric=NAME",
    ]
    assert out.rstrip().endswith(warning[1])


def test_a_mistake_in_the_case_s_objective_names_its_key(toy_project: Path) -> None:
    _with_objective(toy_project, "objective: {metric: total, direction: upward}\n")

    result = nexus(toy_project, "case=toy", "tracking.enabled=false")

    assert result.code == 1
    assert "objective.direction: Input should be 'minimize' or 'maximize'" in result.stderr
