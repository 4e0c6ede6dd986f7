"""The rosbag handler on ROS 1 bags and ROS 2 bag folders written by rosbags' own writers."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("rosbags", reason="the `recordings` extra is not installed")

from recording_files import A_N, A_NS, A_X, B_NS, B_V, T0, seconds, write_rosbag

from nexus.errors import DataError
from nexus.handlers import RosbagHandler

ROSBAG = RosbagHandler()
VERSIONS = [
    pytest.param(1, id="ros1"),
    pytest.param(2, id="ros2-sqlite3"),
    pytest.param(3, id="ros2-mcap"),
]


def bag_path(tmp_path: Path, version: int) -> Path:
    return tmp_path / ("drive.bag" if version == 1 else "drive")


@pytest.fixture(params=VERSIONS)
def bag(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return write_rosbag(bag_path(tmp_path, request.param), request.param)


def test_two_topics_read_back_exactly(bag: Path) -> None:
    a = ROSBAG.load(bag, topic="/a")
    b = ROSBAG.load(bag, topic="/b")

    assert a["t"].tolist() == seconds(A_NS)
    assert a["point.x"].tolist() == A_X
    assert a["point.y"].tolist() == [float(n) for n in A_N]
    assert a["header.frame_id"].tolist() == ["map"] * 5
    assert "header.stamp.sec" in a.columns
    assert list(b.columns) == ["t", "data"]
    assert b["t"].tolist() == seconds(B_NS)
    assert b["data"].tolist() == B_V


def test_header_stamps_and_epoch_times(bag: Path) -> None:
    by_header = ROSBAG.load(bag, topic="/a", stamp="header", from_start=False)

    assert by_header["t"].tolist() == [(T0 + ns - 1_000_000_000) / 1_000_000_000 for ns in A_NS]


@pytest.mark.parametrize(
    ("window", "a_times", "b_times"),
    [
        ({"start_s": 0.1, "end_s": 0.3}, [0.1, 0.2], [0.25]),
        ({"start_s": 0.25}, [0.3, 0.4], [0.25, 0.45]),
        ({"end_s": 0.05}, [0.0], []),
        ({"start_s": 0.41, "end_s": 0.44}, [], []),
    ],
    ids=["both-ends", "from-start_s", "until-end_s", "empty"],
)
def test_a_window_returns_exactly_the_messages_inside_it(
    bag: Path, window: dict, a_times: list, b_times: list
) -> None:
    a = ROSBAG.load(bag, topic="/a", **window)
    b = ROSBAG.load(bag, topic="/b", **window)

    assert a["t"].tolist() == a_times
    assert a["point.x"].tolist() == [A_X[seconds(A_NS).index(t)] for t in a_times]
    assert (b["t"].tolist(), list(b.columns)) == (b_times, ["t", "data"])


def test_a_missing_topic_lists_the_topics_with_counts_and_types(bag: Path) -> None:
    with pytest.raises(DataError) as caught:
        ROSBAG.load(bag, topic="/c")

    assert caught.value.render() == (
        f"{bag.name} has no topic '/c'\n"
        "  its topics (2):\n"
        "    /a  (5 messages, geometry_msgs/msg/PointStamped)\n"
        "    /b  (3 messages, std_msgs/msg/Float64)"
    )


def test_a_truncated_ros1_bag_is_a_clear_error(tmp_path: Path) -> None:
    path = write_rosbag(tmp_path / "drive.bag", 1)
    path.write_bytes(path.read_bytes()[:-200])

    with pytest.raises(DataError) as caught:
        ROSBAG.load(path, topic="/a")

    message = caught.value.render()
    assert message.startswith("cannot read drive.bag as a ROS bag: ")
    assert "damaged or cut off" in message
    assert "rosbag reindex" in message


@pytest.mark.parametrize("version", [2, 3], ids=["ros2-sqlite3", "ros2-mcap"])
def test_a_damaged_ros2_bag_is_a_clear_error(tmp_path: Path, version: int) -> None:
    path = write_rosbag(tmp_path / "drive", version)
    [storage] = [p for p in path.iterdir() if p.suffix in (".db3", ".mcap")]
    storage.write_bytes(storage.read_bytes()[: storage.stat().st_size // 2])

    with pytest.raises(DataError) as caught:
        ROSBAG.load(path, topic="/a")

    assert caught.value.render().startswith("cannot read drive as a ROS bag: ")


def test_a_folder_without_metadata_is_a_clear_error(tmp_path: Path) -> None:
    path = write_rosbag(tmp_path / "drive", 2)
    (path / "metadata.yaml").unlink()

    with pytest.raises(DataError) as caught:
        ROSBAG.load(path, topic="/a")

    assert caught.value.render() == (
        "drive is not a ROS 2 bag folder: it has no metadata.yaml\n"
        "  `ros2 bag reindex` writes it again from the bag's storage files"
    )


def test_a_file_inside_a_ros2_bag_is_not_a_bag(tmp_path: Path) -> None:
    path = write_rosbag(tmp_path / "drive", 2)

    with pytest.raises(DataError, match=r"drive\.db3 is neither a ROS 1 bag"):
        ROSBAG.load(path / "drive.db3", topic="/a")


def test_bags_are_only_read(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="handler 'rosbag' only reads bags"):
        ROSBAG.save(object(), tmp_path / "x.bag")
