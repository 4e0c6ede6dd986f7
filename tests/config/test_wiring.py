"""Wiring: renames, one plugin as several steps, steps switched off, outputs placed by type.

The cases are real ones under tests/resources/projects/wiring; their steps write what they
received, so a test reads from the outputs what reached each step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
import yaml

from nexus.cli.main import main
from nexus.config.cases import step_key
from nexus.handlers import FrameSequence

if TYPE_CHECKING:
    from conftest import ProjectDir


@pytest.fixture
def wiring(make_project: Callable[[str], ProjectDir]) -> ProjectDir:
    """The `wiring` project: cases smoothed and two_zooms."""
    return make_project("wiring")


def manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / "run.json").read_text(encoding="utf-8"))


def greys(frames: Path) -> list[int]:
    """The grey level of each frame the Renderer wrote: x * zoom_factor of each state."""
    return [int(frame[0, 0, 0]) for frame in FrameSequence(frames)]


def test_a_renamed_input_reads_the_case_name_it_is_wired_to(wiring: ProjectDir) -> None:
    run = wiring.run("case=smoothed")

    smoothed = pd.read_parquet(run / "smoothed_states.parquet")
    predicted = pd.read_parquet(run / "predicted_states.parquet")
    assert greys(run / "frames") == [round(x) for x in smoothed["x"]] == [0, 5, 5, 5, 5, 5]
    assert greys(run / "frames") != [round(x) for x in predicted["x"]]
    assert [s["name"] for s in manifest(run)["steps"]] == ["Predictor", "Smoother", "Renderer"]


def test_an_unmapped_dataframe_output_is_saved_as_parquet_and_the_log_says_where(
    wiring: ProjectDir,
) -> None:
    run = wiring.run("case=smoothed")

    path = run / "smoothed_states.parquet"
    assert pd.read_parquet(path)["x"].tolist() == [0.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    smoother = manifest(run)["steps"][1]
    assert smoother["outputs"][0]["name"] == "smoothed_states"
    assert smoother["outputs"][0]["handler"] == "parquet"
    assert (
        f"'smoothed_states' is not in the io_mapping: saved to {path} (handler parquet, "
        "from its type)"
    ) in (run / "nexus.log").read_text(encoding="utf-8")


def test_one_plugin_runs_as_two_steps_each_with_its_own_zoom_and_output(
    wiring: ProjectDir,
) -> None:
    run = wiring.run("case=two_zooms")

    assert greys(run / "frames") == [0, 10, 0, 10, 0, 10]
    assert greys(run / "closeup") == [0, 40, 0, 40, 0, 40]
    assert [s["name"] for s in manifest(run)["steps"]] == ["Predictor", "Renderer", "close_up"]


def test_a_step_value_wins_over_pipeline_which_feeds_the_other_steps(
    wiring: ProjectDir,
) -> None:
    run = wiring.run("case=two_zooms", "pipeline.zoom_factor=2", "steps.close_up.zoom_factor=3")

    assert greys(run / "frames") == [0, 20, 0, 20, 0, 20]
    assert greys(run / "closeup") == [0, 30, 0, 30, 0, 30]


def test_a_sweep_over_one_steps_parameter_leaves_the_other_step_alone(
    wiring: ProjectDir,
) -> None:
    code = main(["case=two_zooms", "steps.close_up.zoom_factor=2,3", "-m"])
    wiring.capsys.readouterr()

    assert code == 0
    jobs = sorted((wiring.root / "outputs/two_zooms/sweeps").glob("*/*/run.json"))
    assert [manifest(job.parent)["overrides"] for job in jobs] == [
        ["case=two_zooms", "steps.close_up.zoom_factor=2"],
        ["case=two_zooms", "steps.close_up.zoom_factor=3"],
    ]
    assert [greys(job.parent / "frames") for job in jobs] == [[0, 10, 0, 10, 0, 10]] * 2
    assert [greys(job.parent / "closeup") for job in jobs] == [
        [0, 20, 0, 20, 0, 20],
        [0, 30, 0, 30, 0, 30],
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["steps.close_up.zoom_factor=50"],
            "steps.close_up.zoom_factor = 50 (from the command line): Input should be less "
            "than or equal to 20 [step 'close_up']",
            id="command-line",
        ),
        pytest.param(
            ["pipeline.zoom_factor=50"],
            "pipeline.zoom_factor = 50 (from the command line): Input should be less than or "
            "equal to 20 [step 'Renderer']",
            id="pipeline-feeds-only-the-step-without-its-own",
        ),
    ],
)
def test_a_steps_value_is_validated_with_its_layer(
    wiring: ProjectDir, args: list[str], expected: str
) -> None:
    err = wiring.fail("case=two_zooms", *args)

    assert f"\n  {expected}\n" in err


def test_a_value_from_a_step_entry_names_the_case_file(wiring: ProjectDir) -> None:
    text = (wiring.root / "cases/two_zooms/case.yaml").read_text(encoding="utf-8")
    wiring.case("two_zooms", text.replace("zoom_factor: 4", "zoom_factor: -4"))

    err = wiring.fail("case=two_zooms")

    assert (
        "\n  steps.close_up.zoom_factor = -4 (from cases/two_zooms/case.yaml, steps: close_up): "
        "Input should be greater than 0 [step 'close_up']\n"
    ) in err


def test_a_step_switched_off_takes_its_output_from_an_earlier_run(wiring: ProjectDir) -> None:
    earlier = wiring.run("case=smoothed")

    run = wiring.run("case=smoothed", "steps.smoother.enabled=false")

    data = manifest(run)
    assert [s["name"] for s in data["steps"]] == ["Predictor", "Renderer"]
    assert data["skipped"] == ["Smoother"]
    assert data["inputs_from"] == str(earlier)
    assert greys(run / "frames") == [0, 5, 5, 5, 5, 5]
    assert not (run / "smoothed_states.parquet").exists()
    assert "Smoother: switched off (enabled: false), skipped" in (run / "nexus.log").read_text()


def test_a_step_switched_off_without_an_earlier_run_fails_naming_it(wiring: ProjectDir) -> None:
    err = wiring.fail("case=smoothed", "steps.smoother.enabled=false")

    assert err == (
        "nexus: 1 problem in the steps of case 'smoothed'\n"
        "  input 'smoothed_states' of step 'Renderer' is produced by step 'Smoother', which "
        "is switched off (enabled: false), and no completed output of it was found in any "
        "earlier run of case 'smoothed'\n"
        "  run the whole case first: python -m nexus case=smoothed "
        "steps.smoother.enabled=true\n"
    )


def test_a_step_switched_off_in_the_case_keeps_its_parameters_valid(wiring: ProjectDir) -> None:
    wiring.case(
        "two_zooms",
        """
        io_mapping:
          predicted_states: {path: predicted_states.parquet}
          closeup_frames: {path: closeup, handler: frames}
        steps:
          - Predictor
          - {plugin: Renderer, name: close_up, outputs: {rendered_frames: closeup_frames}}
          - {plugin: Smoother, enabled: false, config: {window: 3}}
        pipeline: {window: 4}
        """,
    )

    run = wiring.run("case=two_zooms", "steps.smoother.window=5")
    err = wiring.fail("case=two_zooms", "+pipeline.windw=3")

    assert manifest(run)["skipped"] == ["Smoother"]
    assert [s["name"] for s in manifest(run)["steps"]] == ["Predictor", "close_up"]
    assert (
        "pipeline.windw = 3 (from the command line): no step of this case has a parameter "
        "'windw'; did you mean 'window'?"
    ) in err


def test_the_config_tree_shows_the_resolved_wiring(wiring: ProjectDir) -> None:
    code = main(["case=smoothed", "--cfg", "job"])
    out = wiring.capsys.readouterr().out

    assert code == 0
    tree = yaml.safe_load(out)
    assert tree["case"]["wiring"]["Renderer"] == {
        "plugin": "Renderer",
        "inputs": {"predicted_states": "smoothed_states"},
        "outputs": {"rendered_frames": "rendered_frames"},
    }
    assert tree["steps"]["renderer"] == {"enabled": True, "zoom_factor": "${pipeline.zoom_factor}"}


PLAN_PROBLEM = "nexus: 1 problem in the steps of case 'w'\n  "
CASE_FILE_PROBLEM = "nexus: 1 problem in cases/w/case.yaml\n  "
RENDERER_IO = "(it reads: predicted_states; writes: rendered_frames)"


@pytest.mark.parametrize(
    ("steps", "args", "expected"),
    [
        pytest.param(
            "[Predictor, {plugin: Renderer, inputs: {predicted_state: x}}]",
            [],
            PLAN_PROBLEM + "step 'Renderer' renames 'predicted_state' in inputs:, but plugin "
            "'Renderer' reads no such name; did you mean 'predicted_states'? " + RENDERER_IO,
            id="unknown-input-in-a-rename",
        ),
        pytest.param(
            "[Predictor, {plugin: Renderer, outputs: {frames: x}}]",
            [],
            PLAN_PROBLEM + "step 'Renderer' renames 'frames' in outputs:, but plugin "
            "'Renderer' writes no such name " + RENDERER_IO,
            id="unknown-output-in-a-rename",
        ),
        pytest.param(
            "[Predictor, {plugin: Renderer, inputs: {rendered_frames: x}}]",
            [],
            PLAN_PROBLEM + "step 'Renderer' renames 'rendered_frames' in inputs:, but plugin "
            "'Renderer' reads no such name; 'rendered_frames' is one it writes: rename it "
            "under outputs: " + RENDERER_IO,
            id="an-output-renamed-as-an-input",
        ),
        pytest.param(
            "[Predictor, Renderer, {plugin: Renderer, name: close_up}]",
            [],
            PLAN_PROBLEM + "'rendered_frames' is produced by two steps: 'Renderer' and "
            "'close_up'; give one of them another name: outputs: {rendered_frames: NEW_NAME}",
            id="two-steps-write-one-name",
        ),
        pytest.param(
            "[Predictor, {plugin: Renderer, inputs: {predicted_states: smoothed_states}}]",
            [],
            PLAN_PROBLEM + "step 'Renderer' reads 'smoothed_states' (field 'states'), which no "
            "step writes and the io_mapping of cases/w/case.yaml does not map to an input "
            "file; did you mean 'predicted_states'?",
            id="read-but-never-written",
        ),
        pytest.param(
            "[Predictor, {plugin: Renderer, inputs: {predicted_states: smoothed_state}}, Smoother]",
            [],
            PLAN_PROBLEM + "step 'Renderer' reads 'smoothed_state' (field 'states'), which no "
            "step writes and the io_mapping of cases/w/case.yaml does not map to an input "
            "file; did you mean 'smoothed_states' or 'predicted_states'?",
            id="read-but-never-written-close-one",
        ),
        pytest.param(
            "[Predictor, {plugin: Renderer, inputs: {predicted_states: smoothed_states}}, "
            "Smoother]",
            [],
            PLAN_PROBLEM + "step 'Renderer' reads 'smoothed_states', which 'Smoother' writes, "
            "but is listed before it: list 'Smoother' first",
            id="read-before-written",
        ),
        pytest.param(
            "[Ping, Pong]",
            [],
            PLAN_PROBLEM + "steps 'Ping', 'Pong' form a cycle: 'Ping' reads 'pong' from "
            "'Pong'; 'Pong' reads 'ping' from 'Ping'; no order can run them",
            id="cycle",
        ),
        pytest.param(
            "[Predictor, {plugin: Smoother, outputs: {smoothed_states: predicted_states}}]",
            [],
            PLAN_PROBLEM + "'predicted_states' is produced by two steps: 'Predictor' and "
            "'Smoother'; give one of them another name: outputs: {smoothed_states: NEW_NAME}",
            id="a-rename-onto-another-steps-output",
        ),
        pytest.param(
            "[Widget Maker]",
            [],
            PLAN_PROBLEM + "step 'Widget Maker' writes 'widget' (Widget), which the io_mapping "
            "of cases/w/case.yaml does not map, and no handler is implied by its type; add a "
            "line there, e.g. `widget: {path: widget.EXT, handler: HANDLER}` with a handler "
            "that saves a Widget (known handlers: csv, frames, hdf5, json, mcap, mp4, parquet, "
            "rosbag)",
            id="an-output-with-no-home",
        ),
        pytest.param(
            "[Predictor, Renderer]",
            ["steps.rendrer.zoom_factor=2"],
            "nexus: unknown key in an override: 'steps.rendrer.zoom_factor'\n  no step of the "
            "case has the key 'rendrer'; did you mean 'renderer'?; its steps: "
            "steps.predictor, steps.renderer",
            id="unknown-step-on-the-command-line",
        ),
        pytest.param(
            "[Predictor, Renderer]",
            ["steps.renderer.zoom_facter=2"],
            "nexus: unknown key in an override: 'steps.renderer.zoom_facter'\n  did you mean "
            "'steps.renderer.zoom_factor'?",
            id="unknown-parameter-of-a-step-on-the-command-line",
        ),
        pytest.param(
            "[Predictor, Renderer, {plugin: Renderer}]",
            [],
            CASE_FILE_PROBLEM + "two steps are named 'Renderer': give each its own name "
            "(name: ...)",
            id="two-steps-one-name",
        ),
        pytest.param(
            "[Predictor, Renderer, {plugin: Renderer, name: renderer}]",
            [],
            CASE_FILE_PROBLEM + "the steps 'Renderer', 'renderer' share the command-line key "
            "'steps.renderer': rename one",
            id="two-steps-one-key",
        ),
        pytest.param(
            "[Predictor, {plugin: Renderer, enabled: false}]",
            ["only=Renderer"],
            "nexus: only= names step 'Renderer', which is switched off (enabled: false)\n  "
            'switch it on: python -m nexus case=w only="Renderer" steps.renderer.enabled=true',
            id="only-a-step-switched-off",
        ),
    ],
)
def test_a_wiring_problem_stops_the_run_before_it_starts(
    wiring: ProjectDir, steps: str, args: list[str], expected: str
) -> None:
    wiring.case(
        "w",
        "io_mapping: {predicted_states: {path: p.parquet}, "
        "rendered_frames: {path: f, handler: frames}}\n"
        f"steps: {steps}\n",
    )

    err = wiring.fail("case=w", *args)

    assert err.startswith(expected + "\n"), err
    assert not (wiring.root / "outputs").exists()


def test_every_wiring_problem_is_reported_together(wiring: ProjectDir) -> None:
    wiring.case(
        "w",
        """
        io_mapping: {predicted_states: {path: p.parquet}}
        steps:
          - {plugin: Renderer, inputs: {predicted_state: x}}
          - Predictor
          - {plugin: Renderer, name: again}
          - Ping
          - Pong
          - Widget Maker
        """,
    )

    err = wiring.fail("case=w")

    assert err.startswith("nexus: 5 problems in the steps of case 'w'\n")
    for part in [
        "step 'Renderer' renames 'predicted_state' in inputs:",
        "'rendered_frames' is produced by two steps: 'Renderer' and 'again'",
        "steps 'Ping', 'Pong' form a cycle",
        "step 'Renderer' reads 'predicted_states', which 'Predictor' writes, but is listed "
        "before it",
        "step 'Widget Maker' writes 'widget' (Widget)",
    ]:
        assert part in err


def test_list_cases_shows_each_steps_wiring(wiring: ProjectDir) -> None:
    code = main(["list", "cases"])
    out = wiring.capsys.readouterr().out

    assert code == 0
    assert out.splitlines() == [
        "case  smoothed   cases/smoothed/case.yaml   Predictor -> Smoother -> Renderer",
        "    1. Predictor: - -> predicted_states",
        "    2. Smoother: predicted_states -> smoothed_states (not in io_mapping: "
        "smoothed_states.parquet, by its type)",
        "    3. Renderer: smoothed_states -> rendered_frames",
        "case  two_zooms  cases/two_zooms/case.yaml  Predictor -> Renderer -> close_up",
        "    1. Predictor: - -> predicted_states",
        "    2. Renderer: predicted_states -> rendered_frames",
        "    3. close_up (Renderer): predicted_states -> closeup_frames",
    ]


def test_the_reference_draws_steps_by_name_as_the_case_wires_them(wiring: ProjectDir) -> None:
    text = (wiring.root / "cases/two_zooms/case.yaml").read_text(encoding="utf-8")
    wiring.case("two_zooms", text.replace("- Renderer\n", "- {plugin: Renderer, enabled: false}\n"))

    assert main(["docs"]) == 0
    page = (wiring.root / "REFERENCE.md").read_text(encoding="utf-8")

    two_zooms = page[page.index("### two_zooms") :]
    graph = two_zooms[two_zooms.index("```mermaid") :].split("\n```")[0].splitlines()
    assert graph[5:] == [
        '    s1["Predictor"]',
        '    s2["Renderer, switched off"]',
        '    s3["close_up (Renderer)"]',
        "    s1 --> d1",
        "    d1 --> s2",
        "    s2 --> d2",
        "    d1 --> s3",
        "    s3 --> d3",
        "    classDef off stroke-dasharray: 4 4",
        "    class s2 off",
    ]
    assert (
        "- **steps**: 1. Predictor, 2. Renderer (switched off), 3. close_up (plugin Renderer) "
        "(`zoom_factor: 4`)"
    ) in two_zooms
    assert "- **wiring**: close_up writes `rendered_frames` as `closeup_frames`" in two_zooms
    assert (
        "| `smoothed_states` | output of Smoother | `smoothed_states.parquet` | `parquet` "
        "(by its type; not in io_mapping) |  |"
    ) in page
    assert "- **wiring**: Renderer reads `smoothed_states` as `predicted_states`" in page


def test_only_runs_one_step_by_its_name(wiring: ProjectDir) -> None:
    earlier = wiring.run("case=two_zooms")

    run = wiring.run("case=two_zooms", "only=close_up", "steps.close_up.zoom_factor=2")

    assert [s["name"] for s in manifest(run)["steps"]] == ["close_up"]
    assert manifest(run)["inputs_from"] == str(earlier)
    assert greys(run / "closeup") == [0, 20, 0, 20, 0, 20]
    assert not (run / "frames").exists()


def test_mlflow_records_step_names_and_a_steps_own_values(wiring: ProjectDir) -> None:
    import mlflow

    run = wiring.run("case=two_zooms", "tracking.enabled=true", "steps.close_up.zoom_factor=3")

    client = mlflow.MlflowClient(f"sqlite:///{wiring.root / 'mlflow.db'}")
    recorded = client.get_run(manifest(run)["mlflow_run_id"]).data
    assert recorded.params["steps"] == "Predictor, Renderer, close_up"
    assert recorded.params["steps.close_up.zoom_factor"] == "3"
    assert "steps.renderer.zoom_factor" not in recorded.params  # pipeline.* feeds it
    assert {"seconds.renderer", "seconds.close_up"} <= set(recorded.metrics)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        pytest.param("Frame Renderer", "frame_renderer", id="spaces"),
        pytest.param("close_up", "close_up", id="already-a-key"),
        pytest.param("Close-Up (20x)", "close_up_20x", id="punctuation"),
        pytest.param("2D Renderer", "_2d_renderer", id="a-digit-first"),
    ],
)
def test_a_steps_command_line_key(name: str, key: str) -> None:
    assert step_key(name) == key
