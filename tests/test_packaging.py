"""What `pip install` brings: the runtime's dependencies, and the test tools as an extra."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
TEST_TOOLS = {"pytest", "hypothesis"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_test_tools_are_an_extra_not_a_runtime_dependency():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    assert not _names(project["dependencies"]) & TEST_TOOLS
    assert _names(project["optional-dependencies"]["test"]) >= TEST_TOOLS


def test_ci_runs_the_tests_as_the_readme_says():
    readme = (REPO / "README.md").read_text()
    command = re.search(r"Run the tests.*?```bash\n(.+?)\n```", readme, re.DOTALL).group(1)

    assert command == "pip install -e '.[test]' && python -m pytest"
    assert command in (REPO / ".ci" / "run").read_text().splitlines()
