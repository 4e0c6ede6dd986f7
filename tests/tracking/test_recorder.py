"""The MLflow calls made from plain data, in-process and through the helper process.

The helper is forked by a small script run as a subprocess (as `python -m nexus` forks it),
so that this test process never forks; every check reads a real SQLite store.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from mlflow.tracking import MlflowClient

from nexus.cli.main import main
from nexus.run.manifest import process_start
from nexus.tracking.helper import InProcess
from nexus.tracking.recorder import Recorder
from nexus.tracking.store import TrackingError

if TYPE_CHECKING:
    from conftest import ProjectDir


def _uri(root: Path) -> str:
    return f"sqlite:///{root / 'mlflow.db'}"


def _run_script(body: str, root: Path) -> subprocess.CompletedProcess[str]:
    """Run `body` (Python) with `URI` and `ROOT` set; the helper forked as nexus's entry does."""
    script = textwrap.dedent(
        f"""
        import json, os, signal, sys
        from nexus.tracking.helper import fork_helper
        URI, ROOT = {_uri(root)!r}, {str(root)!r}
        helper = fork_helper()
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_recorder_creates_logs_to_and_ends_runs_from_plain_data(tmp_path: Path) -> None:
    (tmp_path / "summary.csv").write_text("a,b\n1,2\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("x: 1\n")
    recorder = Recorder()
    params = {f"p{i:03d}": str(i) for i in range(150)}  # more than one batch of 100
    run_id = recorder.start_run(
        "h1", _uri(tmp_path), str(tmp_path), "exp", "a run", {"nexus.run_dir": "/x/y"}, params
    )
    recorder.log(
        "h1",
        metrics={"rmse": 0.5},
        tags={"nexus.best": "p=1"},
        files=[(str(tmp_path / "summary.csv"), None), (str(tmp_path / "config"), "config")],
    )
    recorder.end_run("h1", "FINISHED")

    client = MlflowClient(_uri(tmp_path))
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == params
    assert run.data.metrics == {"rmse": 0.5}
    assert run.data.tags["nexus.best"] == "p=1"
    assert {a.path for a in client.list_artifacts(run_id)} == {"summary.csv", "config"}
    experiment = client.get_experiment_by_name("exp")
    assert experiment.artifact_location == (tmp_path / "mlartifacts" / "exp").as_uri()
    assert recorder.find_run(_uri(tmp_path), str(tmp_path), "exp", "/x/y") == run_id
    assert recorder.find_run(_uri(tmp_path), str(tmp_path), "exp", "/x/other") is None


def test_ending_another_process_run_only_touches_a_running_one(tmp_path: Path) -> None:
    recorder = Recorder()
    uri, root = _uri(tmp_path), str(tmp_path)
    running = recorder.start_run("a", uri, root, "exp", "running", {})
    finished = recorder.start_run("b", uri, root, "exp", "finished", {})
    recorder.end_run("b", "FINISHED")
    other = Recorder()  # as a later process would
    other.end_if_running(uri, root, running, "KILLED")
    other.end_if_running(uri, root, finished, "KILLED")
    client = MlflowClient(uri)
    assert client.get_run(running).info.status == "KILLED"
    assert client.get_run(finished).info.status == "FINISHED"


def test_in_process_calls_are_done_when_submitted_and_keep_their_errors(tmp_path: Path) -> None:
    recording = InProcess()
    done = recording.start_run("h", _uri(tmp_path), str(tmp_path), "exp", "r", {})
    assert done.done()
    assert MlflowClient(_uri(tmp_path)).get_run(done.result()).info.status == "RUNNING"
    failed = recording.end_if_running(_uri(tmp_path), str(tmp_path), "0" * 32, "KILLED")
    assert failed.done()
    assert "0" * 32 in str(failed.exception())


def test_the_helper_makes_the_calls_and_nexus_never_imports_mlflow(tmp_path: Path) -> None:
    (tmp_path / "out.txt").write_text("hello")
    done = _run_script(
        """
        started = helper.start_run("h", URI, ROOT, "exp", "r", {"t": "1"}, {"p": "2"})
        logged = helper.log("h", metrics={"m": 3.0}, files=[(ROOT + "/out.txt", None)])
        ended = helper.end_run("h", "FINISHED")
        bad = helper.end_if_running(URI, ROOT, "0" * 32, "KILLED")
        results = [f.exception() is None for f in (started, logged, ended)]
        error = bad.exception()
        helper.close(30)
        print(json.dumps({
            "run_id": started.result(),
            "ok": results,
            "error": [type(error).__name__, str(error)],
            "mlflow_here": any(m.split(".")[0] == "mlflow" for m in sys.modules),
        }))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] == [True, True, True]
    assert answer["mlflow_here"] is False
    assert answer["error"][0] == TrackingError.__name__
    assert "0" * 32 in answer["error"][1]
    client = MlflowClient(_uri(tmp_path))
    run = client.get_run(answer["run_id"])
    assert (run.info.status, run.data.params, run.data.metrics) == (
        "FINISHED",
        {"p": "2"},
        {"m": 3.0},
    )
    assert run.data.tags["t"] == "1"
    assert [a.path for a in client.list_artifacts(answer["run_id"])] == ["out.txt"]


def test_a_killed_nexus_leaves_its_run_killed_not_running(tmp_path: Path) -> None:
    """SIGKILL right after asking for a run: the helper still makes it, then ends it KILLED."""
    done = _run_script(
        """
        from nexus.run.manifest import process_start
        helper.open(URI, ROOT, 15)  # as nexus does: the store first, then the run
        helper.start_run("h", URI, ROOT, "exp", "cut off", {})
        print(json.dumps({"pid": helper.pid, "pid_started": process_start(helper.pid)}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        tmp_path,
    )
    assert done.returncode == -9
    helper = json.loads(done.stdout)
    deadline = time.monotonic() + 60
    while process_start(helper["pid"]) == helper["pid_started"]:
        assert time.monotonic() < deadline, "the helper did not end after nexus was killed"
        time.sleep(0.05)
    client = MlflowClient(_uri(tmp_path))
    runs = client.search_runs([client.get_experiment_by_name("exp").experiment_id])
    assert [(r.info.run_name, r.info.status) for r in runs] == [("cut off", "KILLED")]


def test_a_forked_child_of_nexus_does_not_use_its_helper(tmp_path: Path) -> None:
    done = _run_script(
        """
        pid = os.fork()
        if pid == 0:  # a render worker, say: its copy of the pipe is closed at once
            os._exit(0 if not helper.usable() and helper._connection.closed else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), helper.usable())
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"]


def test_a_helper_never_used_is_stopped_and_makes_nothing(tmp_path: Path) -> None:
    done = _run_script(
        """
        pid = helper.pid
        helper.close(30)
        print(not helper.usable(), os.path.exists(f"/proc/{pid}"))
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]  # in-process from now on; the helper reaped
    assert not (tmp_path / "mlflow.db").exists()


def test_in_process_a_store_that_cannot_be_written_costs_the_record_not_the_run(
    project: ProjectDir, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.root / "blocked").write_text("a file where the store's folder should be")
    uri = f"sqlite:///{project.root / 'blocked' / 'mlflow.db'}"

    code = main(["case=c1", "tracking.enabled=true", f"tracking.uri={uri}"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("nexus: the steps completed, but MLflow could not record the run\n")
    assert err.count("nexus: ") == 1
    assert f"(store: {uri})" in err
    [manifest] = [json.loads(p.read_text()) for p in project.root.glob("outputs/*/*/run.json")]
    assert (manifest["status"], manifest["mlflow_run_id"]) == ("completed", None)
