"""Hostile YAML, misspelt config groups and plugins that exit: one message, no traceback.

Each table is a class of fault with variants of our own; every row runs `python -m nexus` in
a fresh copy of the toy project and pins what the user reads.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml
from e2e_helpers import REPO, Result, nexus, start_nexus

OFF = "tracking.enabled=false"


def _assert_one_message(result: Result, expected: list[str], code: int = 1) -> None:
    assert result.code == code, result.stdout + result.stderr
    assert result.stderr.startswith("nexus: "), result.stderr
    assert result.stderr.count("nexus: ") == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for text in expected:
        assert text in result.stderr, f"{text!r} not in:\n{result.stderr}"


def _write(project: Path, relative: str, text: str) -> None:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# 1, 2. YAML that expands or nests too far, in the selected case, another case, or conf/


def _alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\nsteps: [Double]\n"


DEEP_LIST = "steps: [Double]\npipeline: {factor: " + "[" * 5000 + "]" * 5000 + "}\n"
DEEP_MAP = "steps: [Double]\nx: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n"

HOSTILE_YAML = {
    "bomb-in-the-selected-case": (
        "cases/bad/case.yaml",
        _alias_bomb(9),
        "case=bad",
        ["cases/bad/case.yaml:6: its aliases expand to more than 100,000 values"],
    ),
    "self-referring-alias": (
        "cases/bad/case.yaml",
        "steps: &s [Double, *s]\n",
        "case=bad",
        ["cases/bad/case.yaml:1: alias '*s' refers to the collection it is in"],
    ),
    "deep-lists-in-the-selected-case": (
        "cases/bad/case.yaml",
        DEEP_LIST,
        "case=bad",
        ["cases/bad/case.yaml:2: nested more than 64 levels deep"],
    ),
    "deep-mappings-in-the-selected-case": (
        "cases/bad/case.yaml",
        DEEP_MAP,
        "case=bad",
        ["cases/bad/case.yaml:2: nested more than 64 levels deep"],
    ),
    "bomb-in-conf": (
        "conf/config.yaml",
        "defaults: [nexus, {plugin_defaults: '${case}'}, _self_, {case: '???'}]\n"
        + _alias_bomb(8).replace("steps: [Double]\n", ""),
        "case=toy",
        ["conf/config.yaml:7: its aliases expand to more than"],
    ),
    "bomb-in-a-conf-group": (
        "conf/extra/big.yaml",
        _alias_bomb(8).replace("steps: [Double]\n", ""),
        "case=toy",
        ["conf/extra/big.yaml:6: its aliases expand to more than"],
    ),
    "deep-in-a-conf-group": (
        "conf/extra/deep.yaml",
        DEEP_LIST.replace("steps: [Double]\n", ""),
        "case=toy",
        ["conf/extra/deep.yaml:1: nested more than 64 levels deep"],
    ),
}


@pytest.mark.parametrize(
    ("relative", "text", "choice", "expected"), HOSTILE_YAML.values(), ids=HOSTILE_YAML.keys()
)
def test_yaml_that_expands_or_nests_is_refused_naming_the_file(
    toy_project: Path, relative: str, text: str, choice: str, expected: list[str]
) -> None:
    _write(toy_project, relative, text)
    started = time.monotonic()

    result = nexus(toy_project, choice, OFF, timeout=120)

    _assert_one_message(result, expected)
    assert time.monotonic() - started < 60
    assert not (toy_project / "outputs").exists() or not list(
        (toy_project / "outputs").rglob("run.json")
    )


UNSELECTED = {"bomb": _alias_bomb(9), "deep-lists": DEEP_LIST, "deep-mappings": DEEP_MAP}


@pytest.mark.parametrize("chosen_in", ["command-line", "conf-defaults"])
@pytest.mark.parametrize("text", UNSELECTED.values(), ids=UNSELECTED.keys())
def test_a_hostile_case_costs_nothing_to_the_others(
    toy_project: Path, text: str, chosen_in: str
) -> None:
    _write(toy_project, "cases/bad/case.yaml", text)
    args = ["case=toy"]
    if chosen_in == "conf-defaults":
        conf = toy_project / "conf/config.yaml"
        conf.write_text(conf.read_text().replace("- case: ???", "- case: toy"))
        args = []

    run = nexus(toy_project, *args, OFF, timeout=120)
    listed = nexus(toy_project, "list", "cases", timeout=120)

    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert listed.code == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if " bad " in line]
    assert "cannot be read: cases/bad/case.yaml:" in line


# 3. a misspelt or empty config group choice

GROUP_CHOICES = {
    "launcher": (
        ["hydra/launcher=jobilb"],
        ["unknown choice 'jobilb' for 'hydra/launcher'", "did you mean 'joblib'?", "basic"],
    ),
    "sweeper": (
        ["hydra/sweeper=optuan"],
        ["unknown choice 'optuan' for 'hydra/sweeper'", "did you mean 'optuna'?"],
    ),
    "appended-launcher": (["+hydra/launcher=joblb"], ["did you mean 'joblib'?"]),
    "job-logging": (
        ["hydra/job_logging=defualt"],
        ["unknown choice 'defualt' for 'hydra/job_logging'", "did you mean 'default'?"],
    ),
    "empty-launcher": (
        ["hydra/launcher="],
        ["no choice given for 'hydra/launcher'", "choices of hydra/launcher: basic"],
    ),
    "empty-case": (["case="], ["no choice given for 'case'", "choices of case: frames"]),
    "empty-case-after-a-case": (["case=toy", "case="], ["no choice given for 'case'"]),
}


@pytest.mark.parametrize(("args", "expected"), GROUP_CHOICES.values(), ids=GROUP_CHOICES.keys())
def test_a_misspelt_group_choice_lists_the_choices(
    toy_project: Path, args: list[str], expected: list[str]
) -> None:
    if not any(a.startswith("case=") for a in args):
        args = ["case=toy", *args]

    result = nexus(toy_project, *args, OFF)

    _assert_one_message(result, expected)
    assert len(result.stderr.splitlines()) <= 5
    assert not (toy_project / "outputs").exists()


# 6. plugins that exit, in a step or at import

EXIT_STEPS = '''\
import os
import sys

from pydantic import BaseModel

from nexus import plugin


class ExitConfig(BaseModel):
    how: str = "none"


def _helper(code):
    sys.exit(code)


@plugin(name="Exiter", default_config=ExitConfig)
def exiter(config: ExitConfig) -> None:
    """Exits in the way its config says."""
    if config.how == "exit0":
        sys.exit(0)
    if config.how == "exit3":
        sys.exit(3)
    if config.how == "text":
        sys.exit("giving up")
    if config.how == "builtin":
        exit()
    if config.how == "helper":
        _helper(7)
    if config.how == "os":
        os._exit(0)
'''


@pytest.fixture
def exit_project(toy_project: Path) -> Path:
    _write(toy_project, "plugins/exit_steps.py", EXIT_STEPS)
    _write(toy_project, "cases/exits/case.yaml", "steps: [Exiter]\n")
    return toy_project


STEP_EXITS = {
    "exit-0": ("exit0", "called sys.exit(0)", "exit_steps.py:21: sys.exit(0)"),
    "exit-3": ("exit3", "called sys.exit(3)", "exit_steps.py:23: sys.exit(3)"),
    "exit-text": ("text", "called sys.exit('giving up')", "exit_steps.py:25"),
    "builtin-exit": ("builtin", "called sys.exit(None)", "exit_steps.py:27: exit()"),
    "exit-in-a-helper": ("helper", "called sys.exit(7)", "exit_steps.py:14: sys.exit(code)"),
    "os-exit": ("os", "called os._exit(0)", "exit_steps.py:31: os._exit(0)"),
}


@pytest.mark.parametrize(("how", "call", "line"), STEP_EXITS.values(), ids=STEP_EXITS.keys())
def test_a_step_that_exits_fails_with_its_line(
    exit_project: Path, how: str, call: str, line: str
) -> None:
    result = nexus(exit_project, "case=exits", f"pipeline.how={how}")

    _assert_one_message(result, [f"step 'Exiter' {call}", line, "raise an exception"])
    [run_json] = (exit_project / "outputs").rglob("run.json")
    manifest = json.loads(run_json.read_text())
    assert manifest["status"] == "failed"
    assert manifest["steps"][0]["status"] == "failed"
    assert _mlflow_statuses(exit_project) == ["FAILED"]


def test_steps_that_exit_in_a_joblib_sweep_fail_their_jobs_only(exit_project: Path) -> None:
    marker = uuid.uuid4().hex
    result = nexus(
        exit_project,
        "-m",
        "case=exits",
        "pipeline.how=none,exit0,exit3,os",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        env={"NEXUS_TEST_MARK": marker},
    )

    _assert_one_message(result, ["3 of 4 jobs of the sweep failed"])
    for text in ("called sys.exit(0)", "called sys.exit(3)", "called os._exit(0)"):
        assert text in result.stdout, result.stdout
    manifests = [json.loads(p.read_text()) for p in (exit_project / "outputs").rglob("run.json")]
    assert sorted(m["status"] for m in manifests) == ["completed", "failed", "failed", "failed"]
    assert sorted(_mlflow_statuses(exit_project)) == ["FAILED"] * 3 + ["FINISHED"]
    _assert_no_process_left(marker)


IMPORT_EXITS = {
    "exit-0": ("import sys\nsys.exit(0)\n", "called sys.exit(0) while it was imported", ":2:"),
    "exit-2": ("import sys\n\nsys.exit(2)\n", "called sys.exit(2)", ":3: sys.exit(2)"),
    "raise-systemexit": ("raise SystemExit('no')\n", "called sys.exit('no')", ":1:"),
    "builtin-exit": ("x = 1\nexit()\n", "called sys.exit(None)", ":2: exit()"),
    "os-exit": ("import os\nos._exit(0)\n", "called os._exit(0) while it was imported", ":2:"),
}


@pytest.mark.parametrize(("text", "call", "line"), IMPORT_EXITS.values(), ids=IMPORT_EXITS.keys())
@pytest.mark.parametrize("command", [["list"], ["case=toy", OFF]], ids=["list", "run"])
def test_a_module_that_exits_at_import_is_named(
    toy_project: Path, command: list[str], text: str, call: str, line: str
) -> None:
    _write(toy_project, "plugins/quitter.py", text)

    result = nexus(toy_project, *command)

    _assert_one_message(result, [f"plugin module plugins/quitter.py {call}", f"quitter.py{line}"])


def _mlflow_statuses(project: Path) -> list[str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    return [
        r.info.status for r in client.search_runs(experiments) if "sweep" not in r.info.run_name
    ]


def _assert_no_process_left(marker: str, wait_s: float = 10) -> None:
    """No process whose environment carries `marker` is alive (a few seconds' grace)."""
    deadline = time.monotonic() + wait_s
    while True:
        alive = _pids_with(marker)
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert alive == [], f"processes of the command still alive: {alive}"


def _pids_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except OSError:
            continue
        if f"NEXUS_TEST_MARK={marker}".encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


# Rough edges: overrides, run directories, inputs_from, case names, handler args, metrics

MEDIA_STEPS = '''\
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict

from nexus import DataSink, plugin
from nexus.handlers import Video


class PicsConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    pics: Annotated[list | None, DataSink(name="pics")] = None


@plugin(name="Pics", default_config=PicsConfig)
def pics(config: PicsConfig) -> list:
    """Three small grey frames."""
    open("PLUGIN_RAN", "w").close()
    return [np.full((16, 16, 3), 40 * i, np.uint8) for i in range(3)]


class FilmConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    film: Annotated[Video | None, DataSink(name="film")] = None


@plugin(name="Film", default_config=FilmConfig)
def film(config: FilmConfig) -> Video:
    """Three small grey frames as a video."""
    open("PLUGIN_RAN", "w").close()
    return Video(frames=[np.full((16, 16, 3), 40 * i, np.uint8) for i in range(3)], fps=10)


class InfConfig(BaseModel):
    pass


@plugin(name="Infinite", default_config=InfConfig)
def infinite(metrics) -> None:
    """Logs a metric that is not a finite number."""
    metrics.log("score", float("inf"))
'''

HANDLER_ARGS = {
    "frames-compress": (
        "pics",
        "{path: pics, handler: frames, handler_args: {compress: 3}}",
        ["handler_args.compress: unknown; did you mean 'compress_type' or 'compress_level'?"],
    ),
    "frames-level-as-text": (
        "pics",
        "{path: pics, handler: frames, handler_args: {compress_level: high}}",
        ["handler_args.compress_level = 'high': Input should be a valid integer"],
    ),
    "frames-level-too-high": (
        "pics",
        "{path: pics, handler: frames, handler_args: {compress_level: 12}}",
        ["handler_args.compress_level = 12: must be 0-9"],
    ),
    "frames-video-quality": (
        "pics",
        "{path: pics, handler: frames, handler_args: {video: {fps: 30, quality: 5}}}",
        ["handler_args.video.quality: unknown; known: fps, codec, crf, preset, output_params"],
    ),
    "mp4-crf-high": (
        "film",
        "{path: film.mp4, handler: mp4, handler_args: {crf: high}}",
        ["handler_args.crf = 'high': Input should be a valid integer", "handler 'mp4'"],
    ),
    "mp4-quality": (
        "film",
        "{path: film.mp4, handler_args: {quality: 5}}",
        ["handler_args.quality: unknown; known: fps, codec, crf, preset, output_params"],
    ),
    "mp4-ranges": (
        "film",
        "{path: film.mp4, handler_args: {crf: 80, preset: fastest}}",
        ["2 problems", "crf = 80: must be a whole number 0-51", "preset = 'fastest': one of"],
    ),
}


@pytest.mark.parametrize(
    ("name", "mapping", "expected"), HANDLER_ARGS.values(), ids=HANDLER_ARGS.keys()
)
def test_handler_args_are_checked_before_the_first_step(
    toy_project: Path, name: str, mapping: str, expected: list[str]
) -> None:
    _write(toy_project, "plugins/media_steps.py", MEDIA_STEPS)
    step = "Pics" if name == "pics" else "Film"
    _write(
        toy_project, "cases/media/case.yaml", f"io_mapping:\n  {name}: {mapping}\nsteps: [{step}]\n"
    )

    result = nexus(toy_project, "case=media", OFF)

    _assert_one_message(result, [f"io_mapping.{name}.", *expected])
    assert not (toy_project / "PLUGIN_RAN").exists(), "the step ran before the check"
    assert not (toy_project / "outputs").exists()


def test_an_input_with_a_misspelt_pandas_argument_is_refused(toy_project: Path) -> None:
    case = toy_project / "cases/toy/case.yaml"
    case.write_text(
        case.read_text().replace("handler: csv}", "handler: csv, handler_args: {sepp: ';'}}")
    )

    result = nexus(toy_project, "case=toy", OFF)

    _assert_one_message(
        result, ["io_mapping.numbers.handler_args.sepp: unknown; did you mean 'sep'?"]
    )


def test_a_metric_that_is_not_finite_fails_its_step_and_run_json_stays_json(
    toy_project: Path,
) -> None:
    _write(toy_project, "plugins/media_steps.py", MEDIA_STEPS)
    _write(toy_project, "cases/infinite/case.yaml", "steps: [Infinite]\n")

    result = nexus(toy_project, "case=infinite", OFF)

    _assert_one_message(result, ["step 'Infinite' failed: ValueError: metric 'score' is inf"])
    [run_json] = (toy_project / "outputs").rglob("run.json")
    json.loads(run_json.read_text(), parse_constant=_no_constant)


def _no_constant(name: str) -> None:
    raise AssertionError(f"run.json holds {name}, which is not JSON")


DIGITS = "9" * 100_000
ODD_OVERRIDES = {
    "100-kb-value": (
        ["pipeline.factor=" + "x" * 100_000],
        ["pipeline.factor = 'xxx", "characters)"],
    ),
    "100-kb-unknown-key-value": (["pipeline.fctor=" + "x" * 100_000], ["did you mean"]),
    "100000-digits": ([f"pipeline.factor={DIGITS}"], ["a number of 100,000 digits"]),
    "100000-digits-in-a-list": ([f"pipeline.factor=[1,{DIGITS}]"], ["100,000 digits"]),
    "100000-digits-negative": ([f"pipeline.factor=-{DIGITS}"], ["100,000 digits"]),
    "nested-5000-deep": (["pipeline.factor=" + "[" * 5000 + "]" * 5000], ["nested more than 64"]),
    "path-too-long": (["hydra.run.dir=" + "d" * 100_000], ["a path is too long for this system"]),
}


@pytest.mark.parametrize(("args", "expected"), ODD_OVERRIDES.values(), ids=ODD_OVERRIDES.keys())
def test_odd_overrides_are_parameter_errors_not_echoed_whole(
    toy_project: Path, args: list[str], expected: list[str]
) -> None:
    result = nexus(toy_project, "case=toy", *args, OFF)

    _assert_one_message(result, expected)
    assert len(result.stderr) < 2000
    assert "unexpected error" not in result.stderr


def test_a_huge_number_in_a_case_file_names_its_line(toy_project: Path) -> None:
    case = toy_project / "cases/toy/case.yaml"
    case.write_text(case.read_text().replace("factor: 3", f"factor: {DIGITS}"))

    result = nexus(toy_project, "case=toy", OFF)

    _assert_one_message(result, ["cases/toy/case.yaml:", "a number of 100,000 digits"])


USED_DIRS = {
    "run-dir-of-a-run": ("hydra.run.dir={run}", "hydra.run.dir names a folder that holds a run"),
    "run-dir-of-all-runs": ("hydra.run.dir={case}", "hydra.run.dir names a folder that holds"),
    "sweep-dir-of-runs": ("hydra.sweep.dir={case}", "hydra.sweep.dir names a folder that holds"),
}


@pytest.mark.parametrize(("override", "expected"), USED_DIRS.values(), ids=USED_DIRS.keys())
def test_a_run_directory_that_holds_a_run_is_refused(
    toy_project: Path, override: str, expected: str
) -> None:
    first = nexus(toy_project, "case=toy", OFF)
    assert first.code == 0, first.stderr
    [run] = (toy_project / "outputs/toy").iterdir()
    before = sorted(p for p in (toy_project / "outputs").rglob("*"))
    args = ["-m", "pipeline.factor=1,2"] if "sweep" in override else []

    result = nexus(
        toy_project,
        "case=toy",
        override.format(run=run, case=toy_project / "outputs/toy"),
        *args,
        OFF,
    )

    _assert_one_message(result, [expected, "runs never share a directory"])
    assert sorted(p for p in (toy_project / "outputs").rglob("*")) == before


def test_inputs_from_resolves_from_the_project_root(toy_project: Path) -> None:
    first = nexus(toy_project, "case=toy", OFF)
    assert first.code == 0, first.stderr
    [run] = (toy_project / "outputs/toy").iterdir()
    below = toy_project / "cases/toy"  # a folder below the root

    found = nexus(below, "case=toy", "only=Sum", f"inputs_from=outputs/toy/{run.name}", OFF)
    missing = nexus(below, "case=toy", "only=Sum", "inputs_from=outputs/toy/nope", OFF)

    assert found.code == 0, found.stderr
    _assert_one_message(
        missing,
        [f"inputs_from= folder not found: {toy_project / 'outputs/toy/nope'}", "project root"],
    )


@pytest.mark.parametrize("name", ["démo", "日本語", "Ωmega-2", "naïve case"])
def test_a_case_named_with_non_ascii_letters_runs(toy_project: Path, name: str) -> None:
    (toy_project / "cases" / name).mkdir()
    (toy_project / "cases" / name / "case.yaml").write_text("steps: [Double]\n", encoding="utf-8")
    source = (toy_project / "cases/toy/case.yaml").read_text()
    (toy_project / "cases" / name / "case.yaml").write_text(source, encoding="utf-8")
    (toy_project / "cases" / name / "raw").symlink_to(toy_project / "cases/toy/raw")

    plain = nexus(toy_project, f"case={name}", OFF)
    quoted = nexus(toy_project, f"case='{name}'", "pipeline.factor=x", OFF)

    assert plain.code == 0, plain.stderr
    assert len(list((toy_project / "outputs" / name).glob("*/run.json"))) == 1
    _assert_one_message(quoted, [f"in case '{name}'", "pipeline.factor = 'x'"])


def test_a_plugin_that_prints_at_import_leaves_cfg_job_valid_yaml(toy_project: Path) -> None:
    _write(toy_project, "plugins/noisy.py", "print('loading noisy: {oops: [')\n")

    result = nexus(toy_project, "case=toy", "--cfg", "job")

    assert result.code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["pipeline"]["factor"] == 3
    assert "loading noisy" in result.stderr


# Ctrl-C while nexus starts


def _python_start_s() -> float:
    """How long this machine's Python takes to start (site-packages' .pth files included)."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - started


@pytest.mark.parametrize("after_start_s", [0.05, 0.2, 0.4, 0.7, 1.0])
def test_ctrl_c_while_nexus_starts_prints_no_traceback(
    toy_project: Path, after_start_s: float
) -> None:
    delay = _python_start_s() + after_start_s
    process = start_nexus(toy_project, "case=toy", OFF)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert "Traceback" not in out + err, err
    if process.returncode != 0:  # a fast machine may have finished the run already
        assert process.returncode == 130, (process.returncode, err)
        # once the run has begun, the message goes on with how to resume: see test_runs
        assert "nexus: interrupted" in err.splitlines(), err


# 7. the demo on data in another order


def test_the_demo_on_a_shuffled_video_manifest_sorts_it_and_says_so(tmp_path: Path) -> None:
    project = tmp_path / "demo"
    shutil.copytree(REPO / "conf", project / "conf")
    shutil.copytree(
        REPO / "plugins", project / "plugins", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "cases/demo").mkdir(parents=True)
    shutil.copy(REPO / "cases/demo/case.yaml", project / "cases/demo/case.yaml")
    assert nexus(project, "generate-data").code == 0
    manifest = project / "cases/demo/raw_data/video_manifest.csv"
    pd.read_csv(manifest).sample(frac=1, random_state=5).to_csv(manifest, index=False)

    result = nexus(project, "case=demo", OFF, "pipeline.width=160", "pipeline.height=120")

    assert result.code == 0, result.stderr
    assert "the video manifest is not in time order" in result.stderr + result.stdout
    assert "sorted by t" in result.stderr + result.stdout
    assert "video of 300 frames at 30 fps" in result.stdout + result.stderr
