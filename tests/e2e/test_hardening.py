"""Hostile YAML, misspelt config groups and plugins that exit: one message, no traceback.

Each table is a class of fault with variants of our own; every row runs `python -m nexus` in
a fresh copy of the toy project and pins what the user reads.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from e2e_helpers import Result, nexus

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


@pytest.mark.parametrize("text", UNSELECTED.values(), ids=UNSELECTED.keys())
def test_a_hostile_case_costs_nothing_to_the_others(toy_project: Path, text: str) -> None:
    _write(toy_project, "cases/bad/case.yaml", text)

    run = nexus(toy_project, "case=toy", OFF, timeout=120)
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
