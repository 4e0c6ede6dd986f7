"""Helpers of the end-to-end tests: real `python -m nexus` processes, a real mlflow server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parents[1]


@dataclass
class Result:
    """A finished `python -m nexus` process."""

    code: int
    stdout: str
    stderr: str


def nexus(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> Result:
    """Run `python -m nexus ARGS` in `project` and wait for it."""
    done = subprocess.run(
        [sys.executable, "-m", "nexus", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_clean_env(), **(env or {})},
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def start_nexus(
    project: Path,
    *args: str,
    output: int = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start `python -m nexus ARGS` in `project` in the background; its output to `output`."""
    return subprocess.Popen(
        [sys.executable, "-m", "nexus", *args],
        cwd=project,
        env={**_clean_env(), **(env or {})},
        stdout=output,
        stderr=output,
        text=True,
    )


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HYDRA_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def manifests(folder: Path) -> list[dict[str, Any]]:
    """Every `run.json` below `folder`, oldest first."""
    found = [json.loads(p.read_text()) for p in folder.rglob("run.json")]
    return sorted(found, key=lambda m: m["started"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    """A real `mlflow server` on 127.0.0.1, with helpers for its REST API."""

    def __init__(self, store_uri: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "mlflow-server.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                store_uri,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--artifacts-destination",
                str(workdir / "server-artifacts"),
            ],
            cwd=workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
        )
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {Path(self.log.name).read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("mlflow server did not start in time")

    def get(self, endpoint: str, **params: Any) -> Any:
        query = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in params.items())
        with urllib.request.urlopen(f"{self.url}{endpoint}?{query}", timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body[:1] in (b"{", b"[") else body

    def post(self, endpoint: str, payload: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.url}{endpoint}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def experiment(self, name: str) -> dict[str, Any]:
        return self.get("/api/2.0/mlflow/experiments/get-by-name", experiment_name=name)[
            "experiment"
        ]

    def runs(self, experiment_id: str) -> list[dict[str, Any]]:
        found = self.post(
            "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment_id], "max_results": 1000}
        )
        return found.get("runs", [])

    def artifacts(self, run_id: str, path: str = "") -> list[str]:
        listing = self.get("/api/2.0/mlflow/artifacts/list", run_id=run_id, path=path)
        return sorted(f["path"] for f in listing.get("files", []))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def tags(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def params(run: dict[str, Any]) -> dict[str, str]:
    return {p["key"]: p["value"] for p in run["data"].get("params", [])}


def metrics(run: dict[str, Any]) -> dict[str, float]:
    return {m["key"]: m["value"] for m in run["data"].get("metrics", [])}


def wait_for(condition: Callable[[], Any], timeout: float = 180, every: float = 0.05) -> Any:
    """Poll `condition` until it returns something true, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out waiting")
