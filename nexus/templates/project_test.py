"""Tests of the example step and case, made by `python -m nexus init`: `python -m pytest`."""

import pandas as pd
from plugins.example_steps import scale

from nexus.testing import run_plugin


def test_the_numbers_are_scaled():
    numbers = pd.DataFrame({"x": [1.0, 2.0]})

    run = run_plugin(scale, inputs={"numbers": numbers}, params={"factor": 3})

    assert run.output["x"].tolist() == [3.0, 6.0]
    assert run.metrics["total"] == 9.0


def test_the_example_case_runs(nexus_project):
    nexus_project.copy("plugins")
    nexus_project.copy("cases/example")

    result = nexus_project.run("case=example", "pipeline.factor=10")

    assert result.manifest["status"] == "completed"
