"""`python -m nexus init DIR` makes a project that runs, and tests, at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


def test_a_new_project_runs_its_example_case_and_passes_its_tests(tmp_path: Path) -> None:
    made = _run(tmp_path, "-m", "nexus", "init", "mine")

    assert (made.returncode, made.stderr) == (0, ""), made.stdout
    assert made.stdout.splitlines() == [
        "created conf/config.yaml",
        "created cases/example/case.yaml",
        "created cases/example/raw_data/numbers.csv",
        "created plugins/example_steps.py",
        "created tests/test_example.py",
        "created pyproject.toml",
        "created .gitignore",
        "run it: cd mine && python -m nexus case=example",
        "test it: cd mine && python -m pytest",
    ]
    project = tmp_path / "mine"
    ran = _run(project, "-m", "nexus", "case=example")
    assert ran.returncode == 0, ran.stderr
    [run_dir] = (project / "outputs" / "example").iterdir()
    assert (run_dir / "scaled.csv").is_file()
    assert (project / "mlflow.db").is_file()  # recorded, as a user's project is by default
    tested = _run(project, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "2 passed" in tested.stdout


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        pytest.param(
            lambda d: (d / "notes.txt").write_text("mine"),
            "cannot create a project in {d}: the folder is not empty",
            id="not-empty",
        ),
        pytest.param(
            lambda d: (d / "conf").mkdir() or (d / "conf/config.yaml").write_text("{}"),
            "{d} is a nexus project already: it has conf/config.yaml",
            id="a-project",
        ),
    ],
)
def test_init_never_writes_over_a_folder_in_use(tmp_path: Path, prepare, message) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    prepare(folder)

    done = _run(tmp_path, "-m", "nexus", "init", "here")

    assert done.returncode == 1
    assert done.stderr.startswith(f"nexus: {message.format(d=folder.resolve())}\n")
    assert not (folder / "cases").exists()


def test_outside_a_project_nexus_suggests_init(tmp_path: Path) -> None:
    done = _run(tmp_path, "-m", "nexus", "case=demo")

    assert done.returncode == 1
    assert "nexus: no nexus project here" in done.stderr
    assert "or start a new project: python -m nexus init DIR" in done.stderr
