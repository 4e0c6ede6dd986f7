"""One config tree, through real Hydra composition: layers, per-step values, validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from nexus.cli.main import main

if TYPE_CHECKING:
    from conftest import ProjectDir

CONF = """
defaults:
  - nexus
  - plugin_defaults: ${{case}}
  - _self_
  - case: ???
tracking:
  enabled: false
pipeline: {pipeline}
"""

CASE = """
io_mapping:
  made: {{path: made.json}}
  used: {{path: used.json}}
steps: {steps}
pipeline: {pipeline}
"""


def setup(
    project: ProjectDir,
    conf: str = "{}",
    case: str = "{}",
    steps: str = "[Maker, User]",
) -> None:
    """Write conf/config.yaml and cases/c1/case.yaml with these `pipeline:` values and steps."""
    project.write("conf/config.yaml", CONF.format(pipeline=conf))
    project.case("c1", CASE.format(steps=steps, pipeline=case))


def outputs(run: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """What Maker and User received, as they wrote it."""
    made = json.loads((run / "made.json").read_text(encoding="utf-8"))
    used = json.loads((run / "used.json").read_text(encoding="utf-8"))
    return made, used


@pytest.mark.parametrize(
    ("conf", "case", "args", "factor"),
    [
        pytest.param("{}", "{}", [], 1.0, id="plugin-default"),
        pytest.param("{factor: 2}", "{}", [], 2.0, id="conf-over-default"),
        pytest.param("{factor: 2}", "{factor: 3}", [], 3.0, id="case-over-conf"),
        pytest.param(
            "{factor: 2}", "{factor: 3}", ["pipeline.factor=4"], 4.0, id="command-line-over-case"
        ),
    ],
)
def test_layers_lowest_first(
    project: ProjectDir, conf: str, case: str, args: list[str], factor: float
) -> None:
    setup(project, conf=conf, case=case)

    run = project.run("case=c1", *args)

    made, used = outputs(run)
    assert made == {"factor": factor, "count": 3, "ratio": 0.5}
    assert used["factor"] == factor  # one flat namespace: both steps have `factor`
    assert used["made"] == made  # handed on from Maker to User
    assert used["run_dir"] == str(run)


def test_a_step_of_its_own_wins_over_pipeline(project: ProjectDir) -> None:
    setup(
        project,
        conf="{factor: 2}",
        case="{factor: 3}",
        steps="[Maker, {plugin: User, config: {factor: 7}}]",
    )

    made, used = outputs(project.run("case=c1", "pipeline.count=5"))

    assert (made["factor"], made["count"], used["factor"]) == (3.0, 5, 7.0)


def test_conf_may_hold_parameters_of_other_cases(project: ProjectDir) -> None:
    setup(project, conf="{factor: 2, zoom_of_another_case: 4}")

    made, _ = outputs(project.run("case=c1"))

    assert made["factor"] == 2.0


def test_cfg_job_shows_every_plugin_default(project: ProjectDir) -> None:
    exit_code = main(["case=c1", "--cfg", "job"])
    out, err = project.capsys.readouterr()

    assert exit_code == 0, err
    tree = yaml.safe_load(out)
    assert tree["pipeline"] == {"factor": 1.0, "count": 3, "ratio": 0.5}
    assert tree["case"]["name"] == "c1"
    assert tree["case"]["steps"] == ["Maker", "User"]
    assert not (project.root / "outputs").exists()


def test_cfg_job_shows_the_layered_values(project: ProjectDir) -> None:
    setup(project, conf="{count: 9}", case="{ratio: 0.25}")

    exit_code = main(["case=c1", "pipeline.factor=4", "--cfg", "job"])
    out, err = project.capsys.readouterr()

    assert exit_code == 0, err
    assert yaml.safe_load(out)["pipeline"] == {"factor": 4, "count": 9, "ratio": 0.25}


FIX = "fix them in the file named, or override them: python -m nexus case=c1 pipeline.NAME=VALUE"


@pytest.mark.parametrize(
    ("layers", "args", "expected"),
    [
        pytest.param(
            {},
            ["pipeline.factr=2"],
            [
                "unknown key in an override: 'pipeline.factr'",
                "did you mean 'pipeline.factor'",
                "see every key with: python -m nexus case=NAME --cfg job",
            ],
            id="unknown-key-on-the-command-line",
        ),
        pytest.param(
            {"case": "{factr: 2}"},
            [],
            [
                "1 invalid parameter in case 'c1'",
                "pipeline.factr = 2 (from cases/c1/case.yaml): no step of this case has a "
                "parameter 'factr'; did you mean 'factor'?",
                FIX,
            ],
            id="unknown-key-in-the-case",
        ),
        pytest.param(
            {},
            ["pipeline.count=abc"],
            [
                "1 invalid parameter in case 'c1'",
                "pipeline.count = 'abc' (from the command line): Input should be a valid "
                "integer, unable to parse string as an integer [step 'Maker']",
            ],
            id="wrong-type-on-the-command-line",
        ),
        pytest.param(
            {},
            ["pipeline.factor=abc"],
            [
                "nexus: 1 invalid parameter in case 'c1'",
                "pipeline.factor = 'abc' (from the command line): Input should be a valid "
                "number, unable to parse string as a number [steps 'Maker', 'User']",
            ],
            id="one-bad-value-of-two-steps",
        ),
        pytest.param(
            {"case": "{factor: 11}"},
            [],
            [
                "pipeline.factor = 11 (from cases/c1/case.yaml): Input should be less than or "
                "equal to 10 [step 'Maker']",
            ],
            id="out-of-bounds-in-the-case",
        ),
        pytest.param(
            {"conf": "{count: -1}"},
            [],
            [
                "pipeline.count = -1 (from conf/config.yaml): Input should be greater than or "
                "equal to 0 [step 'Maker']",
            ],
            id="out-of-bounds-in-conf",
        ),
        pytest.param(
            {"steps": "[{plugin: Maker, config: {count: -2}}, User]"},
            ["pipeline.count=1"],
            [
                "1 invalid parameter in case 'c1'",
                "steps: Maker: config.count = -2 (from cases/c1/case.yaml, steps: Maker): "
                "Input should be greater than or equal to 0 [step 'Maker']",
            ],
            id="out-of-bounds-in-a-step-config",
        ),
        pytest.param(
            {"steps": "[Maker, {plugin: User, config: {fctor: 2}}]"},
            [],
            [
                "steps: User: config.fctor (from cases/c1/case.yaml): step 'User' has no "
                "parameter 'fctor'; did you mean 'factor'?",
            ],
            id="unknown-key-in-a-step-config",
        ),
        pytest.param(
            {"case_file": "io_mapping: {needed: {path: n.json}}\nsteps: [Needy]\n"},
            [],
            [
                "pipeline.threshold: Field required [step 'Needy', no default in NeedyConfig]",
            ],
            id="no-default-and-no-value",
        ),
        pytest.param(
            {"steps": "[Maker, Usr]"},
            [],
            [
                "unknown plugin 'Usr' in the steps of case 'c1'",
                "did you mean 'User'?",
                "known plugins: Maker, Needy, Reader, Twin, User",
            ],
            id="unknown-plugin",
        ),
    ],
)
def test_invalid_parameters(
    project: ProjectDir, layers: dict[str, str], args: list[str], expected: list[str]
) -> None:
    if "case_file" in layers:
        project.case("c1", layers["case_file"])
    else:
        setup(project, **layers)

    err = project.fail("case=c1", *args)

    for part in expected:
        assert part in err


def test_every_problem_is_reported_with_its_layer(project: ProjectDir) -> None:
    setup(project, conf="{count: -1}", case="{factor: 11}")

    err = project.fail("case=c1", "pipeline.ratio=abc")

    assert "nexus: 3 invalid parameters in case 'c1'\n" in err
    assert "pipeline.count = -1 (from conf/config.yaml): " in err
    assert "pipeline.factor = 11 (from cases/c1/case.yaml): " in err
    assert "pipeline.ratio = 'abc' (from the command line): " in err
    assert err.rstrip().endswith(FIX)


def test_a_failed_validation_creates_no_run_directory(project: ProjectDir) -> None:
    setup(project, case="{factor: 11}")

    project.fail("case=c1")
    project.fail("case=c1", "pipeline.count=-5")

    assert not (project.root / "outputs").exists()


def test_an_unknown_key_suggests_only_the_close_one(project: ProjectDir) -> None:
    err = project.fail("case=c1", "pipeline.factr=2")

    assert "  did you mean 'pipeline.factor'?\n" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["case=dmeo"],
            ["unknown case 'dmeo'", "did you mean 'demo'?", "available cases: c1, demo"],
            id="misspelt-case",
        ),
        pytest.param(
            ["case=nope"], ["unknown case 'nope'", "available cases: c1, demo"], id="unknown-case"
        ),
        pytest.param(
            [], ["no case chosen: add case=NAME", "available cases: c1, demo"], id="no-case"
        ),
        pytest.param(
            ["pipeline.factor=2"],
            ["no case chosen: add case=NAME", "available cases: c1, demo"],
            id="no-case-with-override",
        ),
    ],
)
def test_the_case_must_be_chosen_and_known(
    project: ProjectDir, args: list[str], expected: list[str]
) -> None:
    project.case("demo", "io_mapping: {made: {path: m.json}}\nsteps: [Maker]\n")

    err = project.fail(*args)

    for part in expected:
        assert part in err


def test_a_broken_case_does_not_stop_another(project: ProjectDir) -> None:
    project.case("broken", "steps: [Maker\n")

    made, _ = outputs(project.run("case=c1"))

    assert made["factor"] == 1.0
