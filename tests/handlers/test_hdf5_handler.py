"""The hdf5 handler on files written by h5py: groups of datasets and compound datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from recording_files import A_N, A_NS, A_X, B_NAME, B_NS, B_V, T0, seconds, write_hdf5

from nexus.errors import DataError
from nexus.handlers import Hdf5Handler

h5py = pytest.importorskip("h5py", reason="the `recordings` extra is not installed")
HDF5 = Hdf5Handler()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_hdf5(tmp_path / "log.h5")


def test_a_group_and_a_compound_dataset_read_back_exactly(log: Path) -> None:
    a = HDF5.load(log, dataset="/a", time_unit="ns")
    b = HDF5.load(log, dataset="/b", time_unit="ns")

    assert sorted(a.columns) == ["n", "pose.x", "pose.y", "t", "x"]
    assert a.columns[0] == "t"
    assert a["t"].tolist() == seconds(A_NS)
    assert (a["x"].tolist(), a["n"].tolist()) == (A_X, A_N)
    assert a["pose.x"].tolist() == [x * 2 for x in A_X]
    assert a["pose.y"].tolist() == [-n for n in A_N]
    assert list(b.columns) == ["t", "v", "name"]
    # Each dataset counts from its own first row: HDF5 has no clock shared by its datasets.
    assert b["t"].tolist() == [(ns - B_NS[0]) / 1e9 for ns in B_NS]
    assert (b["v"].tolist(), b["name"].tolist()) == (B_V, B_NAME)


def test_epoch_times_kept_under_another_name(log: Path) -> None:
    a = HDF5.load(log, dataset="/a", time="t", time_unit="ns", from_start=False, time_column="s")

    assert a.columns[0] == "s"
    assert a["s"].tolist() == [(T0 + ns) / 1_000_000_000 for ns in A_NS]
    assert a["t"].tolist() == [T0 + ns for ns in A_NS]  # the stored column, untouched


def test_a_dataset_without_time_and_a_2d_one(log: Path) -> None:
    imu = HDF5.load(log, dataset="/imu/accel", time=None)

    assert list(imu.columns) == ["accel.0", "accel.1", "accel.2"]
    assert imu["accel.2"].tolist() == [2.0, 5.0, 8.0, 11.0]


@pytest.mark.parametrize(
    ("window", "a_times"),
    [
        ({"start_s": 0.1, "end_s": 0.3}, [0.1, 0.2]),
        ({"start_s": 0.25}, [0.3, 0.4]),
        ({"end_s": 0.05}, [0.0]),
        ({"start_s": 0.41, "end_s": 0.44}, []),
    ],
    ids=["both-ends", "from-start_s", "until-end_s", "empty"],
)
def test_a_window_returns_exactly_the_rows_inside_it(
    log: Path, window: dict, a_times: list
) -> None:
    a = HDF5.load(log, dataset="/a", time_unit="ns", **window)
    b = HDF5.load(log, dataset="/b", time_unit="ns", **window)

    assert a["t"].tolist() == a_times
    assert a["x"].tolist() == [A_X[seconds(A_NS).index(t)] for t in a_times]
    inside = [(ns - B_NS[0]) / 1e9 for ns in B_NS]
    start, end = window.get("start_s", 0), window.get("end_s", 1)
    assert b["t"].tolist() == [t for t in inside if start <= t < end]
    assert sorted(a.columns) == ["n", "pose.x", "pose.y", "t", "x"]  # also when empty


def test_a_window_reads_only_its_rows(tmp_path: Path) -> None:
    # A dataset whose chunks after the first are garbled on disk: a window in the first
    # chunk still reads, found by binary search, which reads a few times one at a time.
    path = tmp_path / "big.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("run/t", data=np.arange(10_000) / 100, chunks=(1000,))
        file.create_dataset("run/v", data=np.arange(10_000.0), chunks=(1000,))
        offsets = [file["run/v"].id.get_chunk_info(i).byte_offset for i in range(1, 10)]
    data = bytearray(path.read_bytes())
    for offset in offsets:
        data[offset : offset + 8000] = b"\xff" * 8000
    path.write_bytes(bytes(data))

    early = HDF5.load(path, dataset="/run", start_s=1.0, end_s=2.0)

    assert early["v"].tolist() == [float(i) for i in range(100, 200)]
    garbled = HDF5.load(path, dataset="/run", start_s=20.0, end_s=21.0)
    assert garbled["v"].tolist() != [float(i) for i in range(2000, 2100)]


def test_a_missing_dataset_lists_those_the_file_has(log: Path) -> None:
    with pytest.raises(DataError) as caught:
        HDF5.load(log, dataset="/c")

    assert caught.value.render() == (
        "log.h5 has no dataset '/c'\n"
        "  its datasets (10):\n"
        "    /a  (5 rows, group)\n"
        "    /a/n  (5 rows, int32)\n"
        "    /a/pose  (5 rows, group)\n"
        "    /a/pose/x  (5 rows, float64)\n"
        "    /a/pose/y  (5 rows, int32)\n"
        "    /a/t  (5 rows, int64)\n"
        "    /a/x  (5 rows, float64)\n"
        "    /b  (3 rows, [('t', '<i8'), ('v', '<f8'), ('name', 'S8')])\n"
        "    /imu  (4 rows, group)\n"
        "    /imu/accel  (4 rows, float64)"
    )


def test_a_missing_time_column_and_unequal_lengths(tmp_path: Path) -> None:
    path = tmp_path / "odd.h5"
    with h5py.File(path, "w") as file:
        file["g/stamp"] = np.arange(3.0)
        file["g/v"] = np.arange(4.0)

    with pytest.raises(DataError, match=r"the datasets of group '/g' in odd\.h5 differ in length"):
        HDF5.load(path, dataset="/g")


def test_no_time_column(log: Path) -> None:
    with pytest.raises(DataError) as caught:
        HDF5.load(log, dataset="/a", time="stamp")

    assert caught.value.render() == (
        "'/a' in log.h5 has no time column 'stamp'\n"
        "  its columns: n, pose.x, pose.y, t, x\n"
        "  name the one holding time with handler_args: {time: ...}, or time: null"
    )


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"\x00" * 16 + data[16:]],
    ids=["truncated", "no-signature"],
)
def test_a_damaged_file_is_a_clear_error(log: Path, damage: object) -> None:
    log.write_bytes(damage(log.read_bytes()))  # type: ignore[operator]

    with pytest.raises(DataError) as caught:
        HDF5.load(log, dataset="/a", time_unit="ns")

    message = caught.value.render()
    assert message.startswith("cannot read log.h5 as HDF5: ")
    assert "damaged or cut off" in message


def test_a_saved_frame_is_read_back_equal(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"t": [0.0, 0.5, 1.25], "x": [1.5, np.nan, 3.0], "pose.y": [1, 2, 3], "s": list("abc")}
    )

    HDF5.save(frame, tmp_path / "out.h5", dataset="/result")

    pd.testing.assert_frame_equal(HDF5.load(tmp_path / "out.h5", dataset="/result"), frame)
