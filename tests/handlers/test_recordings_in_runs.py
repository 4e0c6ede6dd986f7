"""Recordings in real runs: outside the project and never written, windows, MCAP outputs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from recording_files import A_NS, A_X, seconds, write_hdf5, write_mcap_json, write_rosbag

from nexus.cli.main import main
from nexus.handlers import McapHandler

if TYPE_CHECKING:
    from conftest import ProjectDir

FORMATS = {
    "mcap": ("drive.mcap", write_mcap_json, {"topic": "/a"}),
    "rosbag-ros1": ("drive.bag", lambda p: write_rosbag(p, 1), {"topic": "/a"}),
    "rosbag-ros2": ("drive", lambda p: write_rosbag(p, 2), {"topic": "/a"}),
    "hdf5": ("drive.h5", write_hdf5, {"dataset": "/a", "time_unit": "ns"}),
}


@pytest.fixture
def project(make_project: Callable[[str], ProjectDir]) -> ProjectDir:
    """tests/resources/projects/recordings: the step Copy, no case yet."""
    return make_project("recordings")


def snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    """Every file at or below `path`: its bytes and modification time."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(f): (f.read_bytes(), f.stat().st_mtime_ns) for f in files}


def copy_case(path: Path, handler: str, args: dict, output: str = "copied.parquet") -> str:
    args_text = ", ".join(f"{k}: {v}" for k, v in args.items())
    return (
        "io_mapping:\n"
        f"  samples: {{path: '{path}', handler: {handler}, handler_args: {{{args_text}}}}}\n"
        f"  copied: {{path: {output}}}\n"
        "steps: [Copy]\n"
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_recording_outside_the_project_is_read_and_never_written(
    project: ProjectDir, tmp_path: Path, fmt: str
) -> None:
    name, write, args = FORMATS[fmt]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    recording = write(elsewhere / name)
    before, listing = snapshot(recording), sorted(elsewhere.rglob("*"))
    assert not recording.resolve().is_relative_to(project.root.resolve())
    project.case("drive", copy_case(recording, fmt.split("-")[0], args))

    run_dir = project.run("case=drive")

    copied = pd.read_parquet(run_dir / "copied.parquet")
    assert copied["t"].tolist() == seconds(A_NS)
    x = "x" if fmt in ("mcap", "hdf5") else "point.x"
    assert copied[x].tolist() == A_X
    assert snapshot(recording) == before
    assert sorted(elsewhere.rglob("*")) == listing


def test_a_window_from_the_case_and_from_the_command_line(
    project: ProjectDir, tmp_path: Path
) -> None:
    recording = write_mcap_json(tmp_path / "drive.mcap")
    args = {"topic": "/a", "start_s": 0.1, "end_s": "null"}
    project.case("drive", copy_case(recording, "mcap", args))

    from_case = project.run("case=drive")
    narrowed = project.run("case=drive", "case.io_mapping.samples.handler_args.end_s=0.3")

    assert pd.read_parquet(from_case / "copied.parquet")["t"].tolist() == [0.1, 0.2, 0.3, 0.4]
    assert pd.read_parquet(narrowed / "copied.parquet")["t"].tolist() == [0.1, 0.2]


def test_an_mcap_output_is_a_topic_named_after_its_logical_name(
    project: ProjectDir, tmp_path: Path
) -> None:
    recording = write_mcap_json(tmp_path / "drive.mcap")
    project.case("drive", copy_case(recording, "mcap", {"topic": "/b"}, "copied.mcap"))

    run_dir = project.run("case=drive")

    # Saved with log times t seconds after the epoch (start_ns: 0), so read back as such.
    copied = McapHandler().load(run_dir / "copied.mcap", topic="/copied", from_start=False)
    pd.testing.assert_frame_equal(copied, McapHandler().load(recording, topic="/b"))


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        (
            "mcap",
            {"topic": "/c"},
            "drive.mcap has no topic '/c'\n"
            "    its topics (2):\n"
            "      /a  (5 messages, json any)\n"
            "      /b  (3 messages, json any)\n",
        ),
        (
            "rosbag-ros1",
            {"topic": "/a", "end_s": "soon"},
            "io_mapping.samples.handler_args.end_s = 'soon': Input should be a valid number, "
            "unable to parse string as a number (handler 'rosbag', in cases/drive/case.yaml)\n",
        ),
        (
            "rosbag-ros2",
            {"topic": "/c"},
            "drive has no topic '/c'\n    its topics (2):\n",
        ),
        (
            "hdf5",
            {"dataset": "/a", "time_units": "ns"},
            "handler 'hdf5' has no argument 'time_units'\n"
            "    did you mean 'time_unit' or 'time_column'?\n",
        ),
    ],
    ids=list(FORMATS),
)
def test_a_recording_is_checked_before_the_run_starts(
    project: ProjectDir, tmp_path: Path, fmt: str, args: dict, expected: str
) -> None:
    name, write, _ = FORMATS[fmt]
    recording = write(tmp_path / name)
    project.case("drive", copy_case(recording, fmt.split("-")[0], args))

    err = project.fail("case=drive")

    assert err.startswith(
        "nexus: 1 problem in the steps of case 'drive'\n"
        + ("  " if expected.startswith("io_mapping.") else "  input 'samples' of step 'Copy': ")
        + expected
    )
    assert "cases/drive/case.yaml" in err  # where the input is mapped


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_damaged_recording_is_found_before_the_run_starts(
    project: ProjectDir, tmp_path: Path, fmt: str
) -> None:
    name, write, args = FORMATS[fmt]
    recording = write(tmp_path / name)
    damaged = recording if recording.is_file() else recording / f"{name}.db3"
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    project.case("drive", copy_case(recording, fmt.split("-")[0], args))

    err = project.fail("case=drive")

    assert f"  input 'samples' of step 'Copy': cannot read {name} as " in err or (
        f"  input 'samples' of step 'Copy': {name} is cut off" in err
    )
    assert "damaged or cut off" in err


def test_a_missing_optional_package_is_named_with_its_extra(
    project: ProjectDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = write_hdf5(tmp_path / "drive.h5")
    project.case("drive", copy_case(recording, "hdf5", {"dataset": "/a", "time_unit": "ns"}))
    monkeypatch.setitem(sys.modules, "h5py", None)  # as if it were not installed

    assert main(["list", "handlers"]) == 0
    listed = project.capsys.readouterr().out
    err = project.fail("case=drive")

    assert "handler  hdf5     nexus (built in)  .h5 .hdf5 .hdf  (not usable: needs h5py: " in listed
    assert "pip install 'nexus[recordings]')\n" in listed
    assert "handler  mcap     nexus (built in)  .mcap\n" in listed
    assert (
        "  handler 'hdf5' of 'samples' (in cases/drive/case.yaml) needs h5py: "
        "pip install 'nexus[recordings]'\n"
    ) in err


@pytest.mark.parametrize(
    ("module", "handler", "package"),
    [("h5py", "Hdf5Handler", "h5py"), ("rosbags.highlevel", "RosbagHandler", "rosbags")],
)
def test_loading_without_the_optional_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, handler: str, package: str
) -> None:
    import nexus.handlers
    from nexus.errors import DataError

    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed

    with pytest.raises(DataError) as caught:
        getattr(nexus.handlers, handler)().load(tmp_path / "drive.bag")

    assert caught.value.render() == (
        f"handler '{getattr(nexus.handlers, handler).name}' needs the package '{package}', "
        "which is not installed\n"
        f"  install it: pip install 'nexus[recordings]' (or: pip install {package})"
    )
