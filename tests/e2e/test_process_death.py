"""A tracking server that does not answer, Ctrl-C, and SIGKILL of nexus: nothing hangs, nothing
outlives the command, and no MLflow run of it stays RUNNING.

Real processes and signals, real SQLite stores, a real port where nothing listens and a real
port that accepts and never answers. Every process the command starts is recorded from /proc
while it runs (`ProcessTree`).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import nexus, start_nexus, wait_for
from process_helpers import ProcessTree, SilentServer, refused_url

GONE_WITHIN_S = 10.0  # how soon after the command every process it started must be gone (on a
# loaded 2-core machine: the helper may still be finishing the MLflow calls it was sent)


@pytest.fixture(autouse=True)
def _no_leftovers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Kill whatever a failed test left running (by pid: only the processes it started)."""
    import e2e_helpers

    started: list[subprocess.Popen[str]] = []
    original = e2e_helpers.start_nexus

    def start(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        started.append(original(*args, **kwargs))
        return started[-1]

    monkeypatch.setitem(globals(), "start_nexus", start)
    yield
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def _run(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Any, ...]:
    """Run nexus to its end, recording its processes: (process, stdout, stderr, tree, seconds)."""
    started = time.monotonic()
    process = start_nexus(project, *args, env=env)
    tree = ProcessTree(process.pid)
    stdout, stderr = process.communicate(timeout=600)
    seconds = time.monotonic() - started
    tree.stop()
    return process, stdout, stderr, tree, seconds


def _manifests(project: Path) -> list[dict[str, Any]]:
    found = []
    for path in (project / "outputs").rglob("run.json"):
        with contextlib.suppress(ValueError, OSError):
            found.append(json.loads(path.read_text()))
    return found


def _mlflow_runs(project: Path) -> list[tuple[str, str]]:
    """(nexus.kind, status) of every MLflow run in the project's store, read with sqlite3.

    Not through MlflowClient: opening a store that nexus is creating right now would run
    MLflow's schema migrations twice at once.
    """
    database = project / "mlflow.db"
    if not database.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "SELECT t.value, r.status FROM runs r LEFT JOIN tags t "
                "ON t.run_uuid = r.run_uuid AND t.key = 'nexus.kind'"
            ).fetchall()
    except sqlite3.Error:  # the schema is being made
        return []
    return sorted((kind or "?", status) for kind, status in rows)


def _settled(project: Path) -> bool:
    """Runs exist in the store, and none is RUNNING."""
    runs = _mlflow_runs(project)
    return bool(runs) and all(status != "RUNNING" for _, status in runs)


# --- 4. a tracking server that does not answer ------------------------------------------------

SERVERS = {
    "refused": lambda silent: refused_url(),
    "silent": lambda silent: silent.url,
}


@pytest.mark.parametrize(
    ("server", "extra", "env"),
    [
        pytest.param("refused", [], {}, id="refused"),
        pytest.param("refused", [], {"NEXUS_NO_SPEEDUPS": "1"}, id="refused-in-process"),
        pytest.param("silent", [], {}, id="silent"),
        pytest.param("silent", [], {"NEXUS_NO_SPEEDUPS": "1"}, id="silent-in-process"),
        pytest.param("refused", ["pipeline.factor=1,2", "-m"], {}, id="refused-sweep"),
        pytest.param(
            "silent",
            ["pipeline.factor=1,2", "hydra/launcher=joblib", "-m"],
            {},
            id="silent-joblib-sweep",
        ),
    ],
)
def test_a_server_that_does_not_answer_costs_the_deadline_not_the_run(
    toy_project: Path, silent_server: SilentServer, server: str, extra: list[str], env: dict
) -> None:
    url = SERVERS[server](silent_server)
    process, stdout, stderr, tree, seconds = _run(
        toy_project, "case=toy", f"tracking.uri={url}", "tracking.timeout_s=2", *extra, env=env
    )

    assert process.returncode == 1, stdout + stderr
    assert stderr.startswith("nexus: the steps completed, but MLflow could not record the run")
    assert stderr.count("nexus: ") == 1, stderr
    assert url in stderr
    assert "did not answer" in stderr  # in a few words, not MLflow's and requests' lines
    assert "HTTPConnectionPool" not in stderr
    assert "Traceback" not in stdout + stderr
    assert seconds < 120, f"took {seconds:.0f} s"  # 498 s before the deadline existed
    manifests = _manifests(toy_project)
    assert manifests, "no run.json"
    for manifest in manifests:  # outputs kept, run.json final
        assert (manifest["status"], manifest["mlflow_run_id"]) == ("completed", None)
        assert manifest["finished"]
        assert (Path(manifest["run_dir"]) / "doubled.parquet").is_file()
    assert tree.wait_all_gone(GONE_WITHIN_S) == []
    assert not (toy_project / "mlflow.db").exists()


def _steps_done(project: Path) -> Callable[[], bool]:
    """True once every step of a run completed (run.json's last write then waits for MLflow)."""

    def done() -> bool:
        steps = [s for m in _manifests(project) for s in m["steps"]]
        return len(steps) == 2 and all(s["status"] == "completed" for s in steps)

    return done


@pytest.mark.parametrize(
    ("env", "when", "presses"),
    [
        # The helper: the steps ran, and the job's end waits for the server.
        pytest.param({}, "steps done", 1, id="helper-job-end"),
        pytest.param({}, "steps done", 3, id="helper-job-end-3-presses"),
        # In-process: the store is opened before the job, and that waits for the server.
        pytest.param({"NEXUS_NO_SPEEDUPS": "1"}, "opening", 1, id="in-process-opening"),
        pytest.param({"NEXUS_NO_SPEEDUPS": "1"}, "opening", 3, id="in-process-3-presses"),
    ],
)
def test_ctrl_c_while_a_silent_server_keeps_nexus_waiting_ends_the_command(
    toy_project: Path, silent_server: SilentServer, env: dict, when: str, presses: int
) -> None:
    process = start_nexus(
        toy_project,
        "case=toy",
        f"tracking.uri={silent_server.url}",
        "tracking.timeout_s=300",
        env=env,
    )
    tree = ProcessTree(process.pid)
    if when == "steps done":
        wait_for(_steps_done(toy_project))
    time.sleep(3)  # now waiting for the server
    interrupted = time.monotonic()
    for press in range(presses):  # an impatient user presses again while nexus cleans up
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        time.sleep(0.3 if press < presses - 1 else 0)
    stdout, stderr = process.communicate(timeout=120)
    seconds = time.monotonic() - interrupted
    tree.stop()

    assert seconds < 5, f"Ctrl-C took {seconds:.1f} s to end the command"
    assert process.returncode == 130, stdout + stderr
    assert "nexus: interrupted" in stderr
    assert "Traceback" not in stdout + stderr
    assert all(m["status"] != "running" and m["finished"] for m in _manifests(toy_project))
    assert tree.wait_all_gone(GONE_WITHIN_S) == []


# --- 5. SIGKILL of nexus ------------------------------------------------------------------------


def _kill_when(
    project: Path, args: list[str], ready: Callable[[], Any], children: int = 1
) -> tuple[ProcessTree, subprocess.Popen[str]]:
    """Start nexus, SIGKILL it once `ready()` and it has `children` processes; its tree."""
    process = start_nexus(project, *args, output=subprocess.DEVNULL)
    tree = ProcessTree(process.pid)
    wait_for(lambda: ready() and len(tree.alive()) >= children)
    tree.poll()  # every process started so far is recorded
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    tree.stop()
    return tree, process


def _jobs_running(project: Path, count: int) -> Callable[[], bool]:
    """True once `count` jobs run a step and their MLflow runs exist."""

    def ready() -> bool:
        running = [m for m in _manifests(project) if m["status"] == "running" and m["steps"]]
        return len(running) >= count and _mlflow_runs(project).count(("job", "RUNNING")) >= count

    return ready


@pytest.mark.parametrize(
    ("args", "running", "expected"),
    [
        pytest.param(["pipeline.sleep_s=60"], 1, [("job", "KILLED")], id="single-run"),
        pytest.param(
            ["pipeline.sleep_s=60,61", "-m"],
            1,
            [("job", "KILLED"), ("sweep", "KILLED")],
            id="basic-sweep",
        ),
        pytest.param(
            ["pipeline.sleep_s=60,61", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "-m"],
            2,
            [("job", "KILLED"), ("job", "KILLED"), ("sweep", "KILLED")],
            id="joblib-sweep",
        ),
    ],
)
def test_sigkill_of_nexus_ends_every_process_it_started_and_its_runs_killed(
    toy_project: Path, args: list[str], running: int, expected: list[tuple[str, str]]
) -> None:
    workers = running if "joblib" in str(args) else 0
    tree, _ = _kill_when(
        toy_project, ["case=toy", *args], _jobs_running(toy_project, running), 1 + workers
    )

    assert tree.wait_all_gone(GONE_WITHIN_S) == []
    assert wait_for(lambda: _settled(toy_project), timeout=60)
    assert _mlflow_runs(toy_project) == expected


def test_after_sigkill_the_next_run_accounts_for_the_killed_one_without_waiting(
    toy_project: Path,
) -> None:
    tree, _ = _kill_when(
        toy_project, ["case=toy", "pipeline.sleep_s=60"], _jobs_running(toy_project, 1)
    )
    assert tree.wait_all_gone(GONE_WITHIN_S) == []

    started = time.monotonic()
    result = nexus(toy_project, "case=toy")
    seconds = time.monotonic() - started

    assert result.code == 0, result.stderr
    assert "marked interrupted" in result.stdout
    assert seconds < 30, f"the next run took {seconds:.0f} s"
    killed = next(m for m in _manifests(toy_project) if m["status"] != "completed")
    assert killed["status"] == "interrupted"
    assert killed["mlflow_run_id"]
    assert _mlflow_runs(toy_project) == [("job", "FINISHED"), ("job", "KILLED")]


def test_sigkill_during_rendering_ends_the_render_workers(demo_project: Path) -> None:
    def rendering() -> bool:
        return any(
            s["name"] == "Frame Renderer" and s["status"] == "running"
            for m in _manifests(demo_project)
            for s in m["steps"]
        )

    killed_before = _mlflow_runs(demo_project).count(("job", "KILLED"))  # the project is shared
    # The helper and two render workers, at least, when nexus is killed; cache=false, so that
    # the frames are rendered even if an earlier test rendered them.
    tree, _ = _kill_when(
        demo_project, ["case=demo", "pipeline.workers=2", "cache=false"], rendering, 3
    )

    assert tree.wait_all_gone(GONE_WITHIN_S) == []
    assert wait_for(lambda: _settled(demo_project), timeout=60)
    assert _mlflow_runs(demo_project).count(("job", "KILLED")) == killed_before + 1


@pytest.mark.parametrize(
    ("signum", "delay_s"),
    [
        pytest.param(signal.SIGINT, 0.0, id="ctrl-c-at-once"),
        pytest.param(signal.SIGINT, 1.0, id="ctrl-c-after-1s"),
        pytest.param(signal.SIGTERM, 0.0, id="sigterm-at-once"),
    ],
)
def test_an_interrupted_run_is_final_and_names_its_killed_mlflow_run(
    toy_project: Path, signum: int, delay_s: float
) -> None:
    process = start_nexus(toy_project, "case=toy", "pipeline.sleep_s=60")
    tree = ProcessTree(process.pid)
    wait_for(lambda: any(m["steps"] for m in _manifests(toy_project)), every=0.01)
    time.sleep(delay_s)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    tree.stop()

    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    [manifest] = _manifests(toy_project)
    assert manifest["status"] == "interrupted"
    assert manifest["mlflow_run_id"], "run.json does not name its MLflow run"
    assert _mlflow_runs(toy_project) == [("job", "KILLED")]
    assert tree.wait_all_gone(GONE_WITHIN_S) == []
