"""The plan: every problem of a case's steps reported together before anything runs; only=."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import ProjectDir

SHOWN = "cases/c1/case.yaml"


def manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / "run.json").read_text(encoding="utf-8"))


def read(run: Path, name: str) -> dict[str, Any]:
    return json.loads((run / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            "io_mapping: {raw: {path: raw/in.json}, copied: {path: copied.json}}\n"
            "steps: [Reader]\n",
            "input 'raw' of step 'Reader' not found: {root}/cases/c1/raw/in.json "
            f"(mapped in {SHOWN}, io_mapping.raw)",
            id="missing-input",
        ),
        pytest.param(
            "io_mapping: {made: {path: made.json}}\nsteps: [Maker, Twin]\n",
            "'made' is produced by two steps: 'Maker' and 'Twin'; give one of them another "
            "sink name",
            id="two-producers",
        ),
        pytest.param(
            "io_mapping: {made: {path: made.json}, used: {path: used.json}}\n"
            "steps: [User, Maker]\n",
            "step 'User' reads 'made', which 'Maker' writes, but is listed before it: "
            "list 'Maker' first",
            id="consumer-before-producer",
        ),
        pytest.param(
            "io_mapping: {made: {path: made.json, handler: jsn}}\nsteps: [Maker]\n",
            f"unknown handler 'jsn' for 'made' (in {SHOWN}); did you mean 'json'?; "
            "known handlers: csv, frames, json, mp4, parquet",
            id="unknown-handler",
        ),
        pytest.param(
            "io_mapping: {made: {path: made.dat}}\nsteps: [Maker]\n",
            f"no handler for 'made': none reads files like 'made.dat' (in {SHOWN}); "
            "name one with handler: (csv, frames, json, mp4, parquet)",
            id="no-handler-for-the-extension",
        ),
        pytest.param(
            "io_mapping: {made: {path: made.json}}\nsteps: [Maker, User]\n",
            f"'used' (field 'used' of step 'User') is not in the io_mapping of {SHOWN}; "
            "add it there",
            id="name-not-in-io-mapping",
        ),
        pytest.param(
            "io_mapping: {mad: {path: made.json}}\nsteps: [Maker]\n",
            f"'made' (field 'made' of step 'Maker') is not in the io_mapping of {SHOWN}; "
            "did you mean 'mad'?",
            id="name-not-in-io-mapping-close-one",
        ),
        pytest.param(
            "io_mapping: {made: {path: ../made.json}}\nsteps: [Maker]\n",
            "output 'made' has path '../made.json', which leaves the run directory "
            f"(in {SHOWN}); give a relative path inside it",
            id="output-in-the-parent",
        ),
        pytest.param(
            "io_mapping: {made: {path: sub/../../made.json}}\nsteps: [Maker]\n",
            "output 'made' has path 'sub/../../made.json', which leaves the run directory",
            id="output-in-the-parent-after-normalising",
        ),
        pytest.param(
            "io_mapping: {made: {path: '{root}/made.json'}}\nsteps: [Maker]\n",
            "output 'made' has path '{root}/made.json', which leaves the run directory",
            id="output-absolute",
        ),
    ],
)
def test_a_problem_of_the_plan_stops_the_run_before_it_starts(
    project: ProjectDir, case: str, expected: str
) -> None:
    project.case("c1", case.replace("{root}", str(project.root)))

    err = project.fail("case=c1")

    assert err.startswith("nexus: 1 problem in the steps of case 'c1'\n")
    assert f"\n  {expected.replace('{root}', str(project.root))}" in err
    assert not (project.root / "outputs").exists()
    assert not (project.root / "made.json").exists()


def test_every_problem_of_the_plan_is_reported_together(project: ProjectDir) -> None:
    project.case(
        "c1",
        """
        io_mapping:
          raw: {path: raw/missing.json}
          copied: {path: ../copied.json}
          made: {path: made.json, handler: jsn}
        steps: [User, Maker, Twin, Reader]
        """,
    )

    err = project.fail("case=c1")

    assert err.startswith("nexus: 6 problems in the steps of case 'c1'\n")
    for part in [
        "'made' is produced by two steps: 'Maker' and 'Twin'",
        "step 'User' reads 'made', which 'Maker' writes, but is listed before it",
        f"'used' (field 'used' of step 'User') is not in the io_mapping of {SHOWN}",
        "unknown handler 'jsn' for 'made'",
        "output 'copied' has path '../copied.json', which leaves the run directory",
        "input 'raw' of step 'Reader' not found",
    ]:
        assert part in err
    assert not (project.root / "outputs").exists()


def test_an_input_may_have_an_absolute_path(project: ProjectDir, tmp_path: Path) -> None:
    recording = tmp_path / "recordings" / "in.json"
    recording.parent.mkdir()
    recording.write_text('{"from": "outside"}', encoding="utf-8")
    project.case(
        "c1",
        f"io_mapping: {{raw: {{path: '{recording}'}}, copied: {{path: copied.json}}}}\n"
        "steps: [Reader]\n",
    )

    run = project.run("case=c1")

    assert read(run, "copied.json") == {"from": "outside"}
    assert recording.read_text(encoding="utf-8") == '{"from": "outside"}'


def test_an_optional_input_may_be_left_out_or_mapped(project: ProjectDir) -> None:
    left_out = project.run("case=c1")
    project.write("cases/c1/hint.json", '{"from": "the case"}')
    project.case(
        "c1",
        """
        io_mapping:
          made: {path: made.json}
          used: {path: used.json}
          hint: {path: hint.json}
        steps: [Maker, User]
        """,
    )

    mapped = project.run("case=c1")

    assert read(left_out, "used.json")["hint"] is None
    assert read(mapped, "used.json")["hint"] == {"from": "the case"}


def test_only_an_unknown_step(project: ProjectDir) -> None:
    err = project.fail("case=c1", "only=Usr")

    assert "nexus: unknown step in only=: 'Usr'\n" in err
    assert "  did you mean 'User'?\n" in err
    assert "  steps of case 'c1': Maker, User" in err


def test_only_without_an_earlier_run_names_the_input_and_its_producer(
    project: ProjectDir,
) -> None:
    err = project.fail("case=c1", "only=User")

    assert "nexus: 1 problem in the steps of case 'c1'\n" in err
    assert (
        "input 'made' of step 'User' is produced by step 'Maker', and no completed output "
        "of it was found in any earlier run of case 'c1'"
    ) in err
    assert "run the whole case first: python -m nexus case=c1" in err


def test_only_takes_its_inputs_from_the_latest_earlier_run(project: ProjectDir) -> None:
    project.run("case=c1", "pipeline.factor=2")
    latest = project.run("case=c1", "pipeline.factor=3")

    run = project.run("case=c1", "only=User", "pipeline.factor=5")

    assert manifest(run)["inputs_from"] == str(latest)
    assert [step["name"] for step in manifest(run)["steps"]] == ["User"]
    used = read(run, "used.json")
    assert (used["made"]["factor"], used["factor"]) == (3.0, 5.0)
    assert not (run / "made.json").exists()  # read from the earlier run, not copied
    assert read(latest, "made.json")["factor"] == 3.0  # and not rewritten there


def test_only_with_inputs_from_a_chosen_run(project: ProjectDir) -> None:
    chosen = project.run("case=c1", "pipeline.factor=2")
    project.run("case=c1", "pipeline.factor=3")

    run = project.run("case=c1", "only=User", f"inputs_from={chosen}")

    assert manifest(run)["inputs_from"] == str(chosen)
    assert read(run, "used.json")["made"]["factor"] == 2.0


def test_only_a_first_step_needs_no_earlier_run(project: ProjectDir) -> None:
    run = project.run("case=c1", "only=Maker")

    assert manifest(run).get("inputs_from") is None
    assert [step["name"] for step in manifest(run)["steps"]] == ["Maker"]
    assert read(run, "made.json")["factor"] == 1.0
    assert not (run / "used.json").exists()


def _delete_output(run: Path) -> None:
    (run / "made.json").unlink()


def _mark_failed(run: Path) -> None:
    data = manifest(run)
    data["steps"][0]["status"] = "failed"
    (run / "run.json").write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(_delete_output, id="file-gone"),
        pytest.param(_mark_failed, id="step-failed"),
    ],
)
def test_only_skips_an_earlier_run_without_a_completed_output(
    project: ProjectDir, spoil: Any
) -> None:
    good = project.run("case=c1", "pipeline.factor=2")
    spoilt = project.run("case=c1", "pipeline.factor=3")
    spoil(spoilt)

    run = project.run("case=c1", "only=User")

    assert manifest(run)["inputs_from"] == str(good)
    assert read(run, "used.json")["made"]["factor"] == 2.0


def test_only_with_inputs_from_a_run_that_lacks_them(project: ProjectDir) -> None:
    empty = project.root / "elsewhere"
    empty.mkdir()

    err = project.fail("case=c1", "only=User", f"inputs_from={empty}")

    assert (
        "input 'made' of step 'User' is produced by step 'Maker', and no completed output "
        f"of it was found in {empty}"
    ) in err
