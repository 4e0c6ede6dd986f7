"""The entry point's decisions: whether to fork the MLflow helper; fields run.json gets late."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nexus.cli.main import _will_track
from nexus.run.manifest import Manifest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["case=demo"], True),
        (["case=demo", "pipeline.fps=10", "-m"], True),
        (["case=demo", "tracking.enabled=false"], False),
        (["case=demo", "tracking.enabled=False"], False),
        (["case=demo", "++tracking.enabled=0"], False),
        (["case=demo", "tracking.enabled=true"], True),
        (["case=demo", "--cfg", "job"], False),
        (["case=demo", "--help"], False),
        (["list"], False),
        (["generate-data"], False),
        ([], False),
    ],
)
def test_the_helper_is_forked_only_for_tracked_runs(
    args: list[str], expected: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("defaults: [nexus]\n")
    monkeypatch.chdir(tmp_path)
    assert _will_track(args) is expected


def test_a_project_with_tracking_off_forks_no_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("tracking:\n  enabled: false\n")
    monkeypatch.chdir(tmp_path)
    assert _will_track(["case=demo"]) is False
    assert _will_track(["case=demo", "tracking.enabled=true"]) is True
    monkeypatch.chdir(tmp_path.parent)  # no project here: main() will say so, not this
    assert _will_track(["case=demo"]) is False


def test_a_late_field_is_written_once_known_and_waited_for_at_the_end(tmp_path: Path) -> None:
    asked: list[bool] = []
    arrives = iter([None, None, "run-42"])

    def run_id(last: bool) -> str | None:
        asked.append(last)
        return next(arrives)

    def written() -> dict[str, object]:
        return json.loads((tmp_path / "run.json").read_text())

    manifest = Manifest.start(tmp_path, late={"mlflow_run_id": run_id}, case="demo")
    assert written()["mlflow_run_id"] is None
    manifest.step_started("A")
    assert written()["mlflow_run_id"] is None
    manifest.finish("completed")
    assert written()["mlflow_run_id"] == "run-42"
    assert asked == [False, False, True]  # only the last write waits
    manifest.write()
    assert asked == [False, False, True]  # known now: not asked again
