"""Helpers of the scale-out tests: a shortened demo project, its sweep in MLflow, a Ray cluster."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from e2e_helpers import REPO, free_port

SHORT_FRAMES = 15  # half a second of video instead of ten: the demo's steps, a fraction of the work
LATENCIES = ("0.1", "0.2", "0.3")
DEMO_MANIFEST = "raw_data/video_manifest.csv"
SHORT_MANIFEST = "short_video_manifest.csv"
RAY_ENV = {
    # Keeps a Ray cluster on 127.0.0.1: Ray then takes the loopback address as the node's
    # address (it would otherwise bind and connect to the machine's outward-facing address).
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    # The cluster and the process joining it both use the token in ~/.ray/auth_token.
    "RAY_AUTH_MODE": "token",
}


def make_short_demo(folder: Path) -> Path:
    """A copy of this repository's project whose demo renders `SHORT_FRAMES` frames.

    Everything else is the demo's own: its plugins, `case.yaml`, generated data and steps;
    only the video manifest (the frame times) is a shorter file beside the case.
    """
    project = folder / "project"
    project.mkdir(parents=True)
    shutil.copytree(REPO / "conf", project / "conf")
    shutil.copytree(
        REPO / "plugins", project / "plugins", ignore=shutil.ignore_patterns("__pycache__")
    )
    case_dir = project / "cases" / "demo"
    case_dir.mkdir(parents=True)
    text = (REPO / "cases" / "demo" / "case.yaml").read_text()
    assert text.count(DEMO_MANIFEST) == 1, "the demo's video manifest moved: update this helper"
    (case_dir / "case.yaml").write_text(text.replace(DEMO_MANIFEST, SHORT_MANIFEST))
    rows = [f"{i},{i / 30:.6f}" for i in range(SHORT_FRAMES)]
    (case_dir / SHORT_MANIFEST).write_text("\n".join(["frame_index,t", *rows]) + "\n")
    return project


def latency_sweep() -> tuple[str, ...]:
    """The arguments of the README's 3-job sweep of the demo."""
    return ("case=demo", f"pipeline.latency_to_compensate_s={','.join(LATENCIES)}", "-m")


def sweep_runs(tracking_uri: str, experiment: str = "demo") -> tuple[Any, list[Any]]:
    """The one sweep (parent) run of `experiment` and its children, from the store itself."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment '{experiment}' in {tracking_uri}"
    runs = client.search_runs([found.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("nexus.kind") == "sweep"]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return parent, children


def processes_mentioning(text: str) -> list[int]:
    """Ids of the processes whose command line contains `text` (read from /proc)."""
    return [pid for pid, command, _ in _processes() if text in command]


def processes_in_group(group: int) -> list[int]:
    """Ids of the processes of process group `group` (read from /proc)."""
    return [pid for pid, _, pgid in _processes() if pgid == group]


def _processes() -> list[tuple[int, str, int]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            # stat: "pid (name) state ppid pgrp ..."; the name may hold spaces, so split after ')'
            pgid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
        except (OSError, ValueError, IndexError):
            continue
        found.append((int(entry.name), command, pgid))
    return found


class RayCluster:
    """A single-node Ray cluster on 127.0.0.1, started like a user starts one (`ray start`).

    It runs in a session of its own, in a folder outside any project; `stop()` ends it by
    signalling the `ray start --block` process, which stops what it started, and then makes
    sure nothing of that session is left.
    """

    def __init__(self) -> None:
        # Ray's socket paths must stay short (a unix socket path has at most 107 bytes).
        self.temp_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = open(self.temp_dir / "ray-start.log", "w")  # noqa: SIM115 - closed in stop()
        ray = Path(sys.executable).with_name("ray")
        self.process = subprocess.Popen(
            [
                str(ray) if ray.exists() else "ray",
                "start",
                "--head",
                f"--port={self.port}",
                f"--temp-dir={self.temp_dir}",
                "--include-dashboard=false",
                "--num-cpus=2",
                "--disable-usage-stats",
                "--block",
            ],
            cwd=self.temp_dir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **RAY_ENV},
            start_new_session=True,
        )
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        log = Path(self.log.name)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ray start exited:\n{log.read_text()}")
            if "Ray runtime started" in log.read_text():
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the Ray cluster did not start in time:\n{log.read_text()}")

    def alive(self) -> list[int]:
        """Ids of this cluster's processes still running: those of its own process group."""
        return processes_in_group(self.process.pid)

    def stop(self) -> None:
        """End the cluster: SIGTERM to `ray start --block`, then anything left of its group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        if self.alive():  # the group was made for this cluster alone (start_new_session)
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)
