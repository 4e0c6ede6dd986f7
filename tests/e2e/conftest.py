"""Fixtures for end-to-end tests: temporary copies of real projects, real mlflow servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import HERE, REPO, MlflowServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e/ is end to end: `pytest -m "not e2e"` is the quick loop."""
    for item in items:
        if HERE.resolve() in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def toy_project(tmp_path: Path) -> Path:
    """A copy of the two-step toy project (Double, Sum) in a temporary folder."""
    project = tmp_path / "toy"
    shutil.copytree(HERE / "toy_project", project)
    return project


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this repository's project files (conf, cases/demo, plugins), without outputs."""
    project = tmp_path_factory.mktemp("demo") / "project"
    project.mkdir()
    shutil.copytree(REPO / "conf", project / "conf")
    shutil.copytree(
        REPO / "plugins", project / "plugins", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "cases" / "demo").mkdir(parents=True)
    shutil.copy(REPO / "cases" / "demo" / "case.yaml", project / "cases" / "demo" / "case.yaml")
    return project


@pytest.fixture
def mlflow_server_for() -> Iterator[Any]:
    """Start servers with `mlflow_server_for(store_uri, workdir)`; all are stopped afterwards."""
    started: list[MlflowServer] = []

    def start(store_uri: str, workdir: Path) -> MlflowServer:
        server = MlflowServer(store_uri, workdir)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
