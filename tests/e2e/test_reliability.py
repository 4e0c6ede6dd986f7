"""Bad input, faults and interruptions: every one ends in one clear message and loses nothing.

Each row of the table breaks the toy project in one way and pins the message a user reads.
Every row also checks what the issue asks of every failure: exit 1, one `nexus:` message
and no traceback on the console, no final output that is incomplete, and either nothing
written at all (mistakes found before a run) or a `failed` run.json and a FAILED MLflow run.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e_helpers import nexus

Setup = Callable[[Path], None]


def _edit(relative: str, old: str, new: str) -> Setup:
    def setup(project: Path) -> None:
        path = project / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    return setup


def _write(relative: str, content: str | bytes) -> Setup:
    def setup(project: Path) -> None:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return setup


def _nothing(project: Path) -> None:
    return None


CASE = "cases/toy/case.yaml"
PROOF = "/tmp/nexus-reliability-proof"  # a file the refused YAML would have created


@dataclass
class Row:
    args: list[str]
    expected: list[str]
    setup: Setup = _nothing
    before_run: bool = True  # found before anything is written
    proof_absent: bool = False
    extra: dict = field(default_factory=dict)


ROWS = {
    # 1. the command line and the config
    "unknown-case": Row(
        ["case=toi"],
        ["unknown case 'toi'", "did you mean 'toy'?", "available cases: frames, sneaky, toy"],
    ),
    "unknown-key": Row(
        ["case=toy", "pipeline.factr=2"],
        ["unknown key in an override: 'pipeline.factr'", "did you mean 'pipeline.factor'?"],
    ),
    "wrong-type": Row(
        ["case=toy", "pipeline.factor=abc"],
        ["pipeline.factor = 'abc' (from the command line)", "Input should be a valid number"],
    ),
    "out-of-bounds": Row(
        ["case=toy", "pipeline.factor=-1"],
        ["pipeline.factor = -1 (from the command line)", "Input should be greater than 0"],
    ),
    "bounds-from-the-case": Row(
        ["case=toy"],
        ["pipeline.factor = 0 (from cases/toy/case.yaml)", "greater than 0"],
        _edit(CASE, "factor: 3", "factor: 0"),
    ),
    "unknown-step-in-only": Row(
        ["case=toy", "only=Summ"],
        [
            "unknown step in only=: 'Summ'",
            "did you mean 'Sum'?",
            "steps of case 'toy': Double, Sum",
        ],
    ),
    "unknown-handler": Row(
        ["case=toy"],
        ["unknown handler 'parquett' for 'doubled'", "did you mean 'parquet'?"],
        _edit(CASE, "handler: parquet", "handler: parquett"),
    ),
    # 2. malformed YAML: file, line and column
    "case-bad-indentation": Row(
        ["case=toy"],
        ["invalid YAML at cases/toy/case.yaml:4:2", "check the indentation"],
        _edit(CASE, "io_mapping:\n  numbers", "io_mapping:\n  numbers:\n numbers"),
    ),
    "case-unclosed-bracket": Row(
        ["case=toy"],
        ["invalid YAML at cases/toy/case.yaml:6:8: this '[' is not closed", "close it: [a, b]"],
        _edit(CASE, "steps: [Double, Sum]", "steps: [Double, Sum"),
    ),
    "case-duplicate-key": Row(
        ["case=toy"],
        ["cases/toy/case.yaml:", "duplicate key 'steps'"],
        _edit(CASE, "steps: [Double, Sum]", "steps: [Double, Sum]\nsteps: [Sum]"),
    ),
    "conf-bad-indentation": Row(
        ["case=toy"],
        ["invalid YAML at conf/config.yaml:"],
        _edit("conf/config.yaml", "pipeline: {}", "pipeline: {}\n  oops: 1\n bad"),
    ),
    # 3. YAML that tries to run code
    "python-tag": Row(
        ["case=toy"],
        ["is not allowed (it would run code)", "remove the '!!' tag"],
        _edit(
            CASE,
            "description:",
            f"hack: !!python/object/apply:os.system ['touch {PROOF}']\ndescription:",
        ),
        proof_absent=True,
    ),
    "target-in-case": Row(
        ["case=toy"],
        [
            "asks to build objects from code: pipeline.factor._target_",
            "never instantiates '_target_'",
        ],
        _edit(CASE, "factor: 3", f"factor: {{_target_: os.system, command: 'touch {PROOF}'}}"),
        proof_absent=True,
    ),
    # 4. data
    "missing-input": Row(
        ["case=toy"],
        ["input 'numbers' of step 'Double' not found", "raw/numbers.csv", "io_mapping.numbers"],
        lambda p: (p / "cases/toy/raw/numbers.csv").unlink(),
    ),
    "empty-input": Row(
        ["case=toy"],
        ["input 'numbers' is empty", "numbers.csv"],
        _write("cases/toy/raw/numbers.csv", ""),
        before_run=False,
    ),
    "missing-column": Row(
        ["case=toy"],
        [
            "input 'numbers' of step 'Double' lacks the column 'value'",
            "expected: value",
            "found: amount",
        ],
        _write("cases/toy/raw/numbers.csv", "amount\n1\n2\n"),
        before_run=False,
    ),
    "corrupt-parquet": Row(
        ["case=toy"],
        ["cannot read 'numbers'", "with handler 'parquet'"],
        lambda p: (
            _write("cases/toy/raw/numbers.parquet", b"PAR1 not really")(p),
            _edit(CASE, "raw/numbers.csv, handler: csv", "raw/numbers.parquet")(p),
        ),
        before_run=False,
    ),
    "wrong-format-for-handler": Row(
        ["case=toy"],
        ["cannot read 'numbers'", "with handler 'json'"],
        _edit(CASE, "handler: csv", "handler: json"),
        before_run=False,
    ),
    "non-image-in-frames": Row(
        ["case=frames"],
        ["notes.txt", "not a PNG"],
        _write("cases/frames/pictures/notes.txt", "hello"),
        before_run=False,
    ),
    # 5. outputs that would leave the run directory
    "sink-dotdot": Row(
        ["case=toy"],
        ["output 'doubled' has path '../doubled.parquet', which leaves the run directory"],
        _edit(CASE, "path: doubled.parquet", "path: ../doubled.parquet"),
    ),
    "sink-absolute": Row(
        ["case=toy"],
        ["output 'summary' has path '/tmp/summary.json', which leaves the run directory"],
        _edit(CASE, "path: summary.json", "path: /tmp/summary.json"),
    ),
    "sink-through-symlink": Row(
        ["case=sneaky", f"pipeline.outside={PROOF}-dir"],
        ["refusing to write 'escaped' outside the run directory"],
        before_run=False,
    ),
    "input-leaves-project": Row(
        ["case=toy"],
        ["input 'numbers' has path '../../../numbers.csv', which leaves the project"],
        _edit(CASE, "path: raw/numbers.csv", "path: ../../../numbers.csv"),
    ),
    # 6. plugins
    "plugin-raises": Row(
        ["case=toy", "pipeline.fail_on=3"],
        ["step 'Double' failed: ValueError: factor 3.0 is the one that fails", "toy_steps.py:"],
        before_run=False,
    ),
    "unsavable-return": Row(
        ["case=toy", "pipeline.return_kind=text"],
        ["cannot save 'doubled' with handler 'parquet'", "returned str"],
        before_run=False,
    ),
    "returns-nothing": Row(
        ["case=toy", "pipeline.return_kind=none"],
        ["step 'Double' returned nothing, but declares the output 'doubled'"],
        before_run=False,
    ),
    "module-fails-to-import": Row(
        ["case=toy"],
        ["cannot import plugin module plugins/broken.py: ModuleNotFoundError", "no_such_module"],
        _write("plugins/broken.py", "import no_such_module\n"),
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_a_mistake_gives_one_clear_message_and_loses_nothing(toy_project: Path, row: Row) -> None:
    Path(PROOF).unlink(missing_ok=True)
    row.setup(toy_project)
    tracked = not row.before_run

    result = nexus(toy_project, *row.args, *([] if tracked else ["tracking.enabled=false"]))

    assert result.code == 1, result.stdout + result.stderr
    assert result.stderr.startswith("nexus: "), result.stderr
    assert result.stderr.count("nexus: ") == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for text in row.expected:
        assert text in result.stderr, f"{text!r} not in:\n{result.stderr}"
    assert not list(toy_project.rglob("*.partial*")), "a partial file was left behind"
    if row.proof_absent:
        assert not Path(PROOF).exists(), "the YAML ran code"
    runs = [p.parent for p in (toy_project / "outputs").rglob("run.json")]
    if row.before_run:
        assert runs == [], "a mistake found before the run created a run directory"
        return
    [run_dir] = runs
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["error"]["message"]
    assert f"log: {run_dir / 'nexus.log'}" in result.stderr
    assert "Traceback" in (run_dir / "nexus.log").read_text()
    _assert_mlflow_run(toy_project, manifest["mlflow_run_id"], "FAILED")


def _assert_mlflow_run(project: Path, run_id: str, status: str) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    assert client.get_run(run_id).info.status == status


def test_a_failed_step_prints_how_to_resume(toy_project: Path) -> None:
    result = nexus(toy_project, "case=toy", "pipeline.return_kind=none", "tracking.enabled=false")
    assert result.code == 1
    command = "python -m nexus case=toy pipeline.return_kind=none tracking.enabled=false"
    assert (
        "to resume, run the same command again: the steps that finished are reused\n"
        f"    {command}\n"
    ) in result.stderr
    off = nexus(
        toy_project,
        "case=toy",
        "pipeline.return_kind=none",
        "tracking.enabled=false",
        "cache=false",
    )
    assert (
        "to resume from the failed step, run:\n"
        f'    {command} cache=false only="Double"\n'
        f'    {command} cache=false only="Sum"'
    ) in off.stderr


def test_the_resume_command_finishes_the_run(toy_project: Path) -> None:
    # Sum fails (its output path is a folder that exists); after fixing it, the printed
    # command, the same one, reuses Double's completed output and runs Sum.
    (toy_project / "cases/toy/case.yaml").write_text(
        (toy_project / "cases/toy/case.yaml")
        .read_text()
        .replace("handler: json", "handler: parquet")
    )
    failed = nexus(toy_project, "case=toy", "tracking.enabled=false")
    assert failed.code == 1
    assert "run the same command again" in failed.stderr
    (toy_project / "cases/toy/case.yaml").write_text(
        (toy_project / "cases/toy/case.yaml")
        .read_text()
        .replace("summary.json, handler: parquet", "summary.json, handler: json")
    )
    lines = failed.stderr.splitlines()
    command = lines[lines.index(next(x for x in lines if "same command" in x)) + 1].strip()
    done = subprocess.run(
        command,
        shell=True,
        cwd=toy_project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    finished = [json.loads(p.read_text()) for p in (toy_project / "outputs").rglob("run.json")]
    assert sorted(m["status"] for m in finished) == ["completed", "failed"]
    [done_run] = [m for m in finished if m["status"] == "completed"]
    assert [s["cache"]["status"] for s in done_run["steps"]] == ["hit", "miss"]


@contextlib.contextmanager
def _mounted(target: Path, *options: str) -> Iterator[None]:
    """Mount something real over `target` for the test (a small tmpfs, or read-only)."""
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", *options, str(target)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"mounting needs root with CAP_SYS_ADMIN: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_full_disk_fails_the_step_cleanly(toy_project: Path) -> None:
    outputs = toy_project / "outputs"
    with _mounted(outputs, "-t", "tmpfs", "-o", "size=1m", "tmpfs"):
        result = nexus(toy_project, "case=toy", "pipeline.rows=400000", "tracking.enabled=false")

        assert result.code == 1
        assert "No space left on device" in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.count("nexus: ") == 1
        assert not list(outputs.rglob("doubled.parquet")), "a final file was left on a full disk"
        assert not list(outputs.rglob("*.partial*"))
        [manifest] = [json.loads(p.read_text()) for p in outputs.rglob("run.json")]
        assert manifest["status"] == "failed"


def test_read_only_outputs_are_refused_before_the_run(toy_project: Path) -> None:
    outputs = toy_project / "outputs"
    outputs.mkdir()
    with _mounted(outputs, "-o", "bind,ro", str(outputs)):
        result = nexus(toy_project, "case=toy", "tracking.enabled=false")

    assert result.code == 1
    assert "cannot write the run's outputs to" in result.stderr
    assert "Read-only file system" in result.stderr
    assert "Traceback" not in result.stderr
