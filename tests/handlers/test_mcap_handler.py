"""The mcap handler on files written by the mcap package's own writers (JSON and ROS 2)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from recording_files import (
    A_N,
    A_NS,
    A_X,
    B_NAME,
    B_NS,
    B_V,
    T0,
    seconds,
    write_mcap_json,
    write_mcap_ros2,
)

from nexus.errors import DataError
from nexus.handlers import McapHandler

MCAP = McapHandler()


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_mcap_json(tmp_path / "two.mcap")


@pytest.mark.parametrize("summary", [True, False], ids=["indexed", "without-summary"])
def test_two_topics_read_back_exactly(tmp_path: Path, summary: bool) -> None:
    path = write_mcap_json(tmp_path / "two.mcap", summary=summary)

    a = MCAP.load(path, topic="/a")
    b = MCAP.load(path, topic="/b")

    assert list(a.columns) == ["t", "x", "n", "pose.x", "pose.y"]
    assert a["t"].tolist() == seconds(A_NS)
    assert a["x"].tolist() == A_X
    assert a["n"].tolist() == A_N
    assert a["pose.x"].tolist() == [x * 2 for x in A_X]
    assert a["pose.y"].tolist() == [-n for n in A_N]
    assert list(b.columns) == ["t", "v", "name"]
    assert b["t"].tolist() == seconds(B_NS)
    assert (b["v"].tolist(), b["name"].tolist()) == (B_V, B_NAME)


def test_times_since_the_epoch_from_the_publish_time_under_another_name(recording: Path) -> None:
    a = MCAP.load(recording, topic="/a", from_start=False, stamp="publish", time_column="time")

    assert list(a.columns)[:2] == ["time", "x"]
    # Integer nanoseconds divided once: exact to the float nearest each stamp.
    assert a["time"].tolist() == [(T0 + ns + 7) / 1_000_000_000 for ns in A_NS]


@pytest.mark.parametrize(
    ("window", "a_times", "b_times"),
    [
        ({"start_s": 0.1, "end_s": 0.3}, [0.1, 0.2], [0.25]),  # start inside, end outside
        ({"start_s": 0.25}, [0.3, 0.4], [0.25, 0.45]),
        ({"end_s": 0.05}, [0.0], []),
        ({"start_s": 0.41, "end_s": 0.44}, [], []),
    ],
    ids=["both-ends", "from-start_s", "until-end_s", "empty"],
)
@pytest.mark.parametrize("summary", [True, False], ids=["indexed", "without-summary"])
def test_a_window_returns_exactly_the_messages_inside_it(
    tmp_path: Path, summary: bool, window: dict, a_times: list, b_times: list
) -> None:
    path = write_mcap_json(tmp_path / "two.mcap", summary=summary)

    a = MCAP.load(path, topic="/a", **window)
    b = MCAP.load(path, topic="/b", **window)

    assert a["t"].tolist() == a_times
    assert b["t"].tolist() == b_times
    assert a["x"].tolist() == [A_X[seconds(A_NS).index(t)] for t in a_times]
    assert list(b.columns) == ["t", "v", "name"]  # also when empty: the columns of the topic


def _chunks(data: bytes) -> list:
    from io import BytesIO

    from mcap.reader import make_reader

    return make_reader(BytesIO(data)).get_summary().chunk_indexes  # type: ignore[union-attr]


def _garble(data: bytes, chunks: list) -> bytes:
    """The compressed records of `chunks` overwritten with 0xff, the file's length kept."""
    garbled = bytearray(data)
    for chunk in chunks:
        start = chunk.chunk_start_offset + chunk.chunk_length - chunk.compressed_size
        garbled[start : start + chunk.compressed_size] = b"\xff" * chunk.compressed_size
    return bytes(garbled)


def _garbled_chunk(data: bytes) -> bytes:
    return _garble(data, _chunks(data)[:1])


def test_a_window_reads_only_the_chunks_it_needs(tmp_path: Path) -> None:
    # Small chunks, then the chunks after 0.3 s overwritten with garbage: a window before
    # them must still read, so it cannot have read them.
    path = write_mcap_json(tmp_path / "two.mcap", chunk_size=1)
    data = path.read_bytes()
    late = [c for c in _chunks(data) if c.message_start_time >= T0 + 300_000_000]
    assert len(late) == 3
    path.write_bytes(_garble(data, late))

    early = MCAP.load(path, topic="/a", end_s=0.3)

    assert early["x"].tolist() == A_X[:3]
    with pytest.raises(DataError, match=r"cannot read two\.mcap as MCAP"):
        MCAP.load(path, topic="/a")


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        (
            "/c",
            "two.mcap has no topic '/c'\n"
            "  its topics (2):\n"
            "    /a  (5 messages, json any)\n"
            "    /b  (3 messages, json any)",
        ),
        (
            "/aa",
            "two.mcap has no topic '/aa'\n  did you mean '/a'?\n  its topics (2):\n",
        ),
        (
            None,
            "no topic given for two.mcap: choose one with handler_args: {topic: ...}\n"
            "  its topics (2):\n",
        ),
    ],
    ids=["unknown", "close", "none-given"],
)
@pytest.mark.parametrize("summary", [True, False], ids=["indexed", "without-summary"])
def test_a_missing_topic_lists_the_topics_with_counts_and_types(
    tmp_path: Path, summary: bool, topic: str | None, expected: str
) -> None:
    path = write_mcap_json(tmp_path / "two.mcap", summary=summary)

    with pytest.raises(DataError) as caught:
        MCAP.load(path, topic=topic)

    assert caught.value.render().startswith(expected)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda data: data[: len(data) // 2], "two.mcap is cut off: it does not end with MCAP"),
        (lambda data: data[:-3], "two.mcap is cut off"),
        (lambda data: b"PK\x03\x04" + data[4:], "two.mcap is not an MCAP file"),
        (lambda data: _garbled_chunk(data), "cannot read two.mcap as MCAP: "),
    ],
    ids=["half", "last-bytes", "other-format", "garbled-chunk"],
)
def test_a_damaged_file_is_a_clear_error(recording: Path, damage: object, expected: str) -> None:
    recording.write_bytes(damage(recording.read_bytes()))  # type: ignore[operator]

    with pytest.raises(DataError) as caught:
        MCAP.load(recording, topic="/a")

    message = caught.value.render()
    assert message.startswith(expected)
    assert "damaged or cut off" in message or "not an MCAP file" in message


def test_ros2_messages_flatten_and_their_header_stamp_times_them(tmp_path: Path) -> None:
    path = write_mcap_ros2(tmp_path / "ros2.mcap")

    by_log = MCAP.load(path, topic="/a")
    by_header = MCAP.load(path, topic="/a", stamp="header")

    assert list(by_log.columns) == [
        "t",
        "header.stamp.sec",
        "header.stamp.nanosec",
        "header.frame_id",
        "point.x",
        "point.y",
        "point.z",
    ]
    assert by_log["t"].tolist() == seconds(A_NS)
    assert by_log["point.x"].tolist() == A_X
    assert by_header["t"].tolist() == [(ns - 1_000_000_000) / 1e9 for ns in A_NS]


def test_an_unknown_argument_is_named_with_the_close_one(recording: Path) -> None:
    with pytest.raises(DataError) as caught:
        MCAP.load(recording, topc="/a")

    assert caught.value.render() == (
        "handler 'mcap' has no argument 'topc'\n"
        "  did you mean 'topic'?\n"
        "  its arguments: end_s, from_start, stamp, start_ns, start_s, time_column, topic"
    )


def test_a_save_argument_is_accepted_by_load(recording: Path) -> None:
    # One handler_args serves both: an output is read back with what it was saved with.
    assert len(MCAP.load(recording, topic="/a", start_ns=5)) == 5


def _raw_channel(path: Path, encoding: str, schema_encoding: str, data: bytes) -> None:
    from mcap.writer import Writer

    with open(path, "wb") as stream:
        writer = Writer(stream)
        writer.start()
        schema = writer.register_schema("pkg.Msg", schema_encoding, b"")
        channel = writer.register_channel("/odd", encoding, schema)
        writer.add_message(channel, 1, data, 1)
        writer.finish()


@pytest.mark.skipif(
    importlib.util.find_spec("mcap_protobuf") is not None,
    reason="mcap-protobuf-support is installed: no error to see",
)
def test_a_protobuf_channel_names_the_package_that_decodes_it(tmp_path: Path) -> None:
    path = tmp_path / "pb.mcap"
    _raw_channel(path, "protobuf", "protobuf", b"\x08\x01")

    with pytest.raises(DataError) as caught:
        MCAP.load(path, topic="/odd")

    assert caught.value.render() == (
        "handler 'mcap' needs the package 'mcap-protobuf-support', which is not installed\n"
        "  install it: pip install mcap-protobuf-support"
    )


def test_an_unknown_encoding_says_what_can_be_decoded(tmp_path: Path) -> None:
    path = tmp_path / "cbor.mcap"
    _raw_channel(path, "cbor", "", b"\xa0")

    with pytest.raises(DataError) as caught:
        MCAP.load(path, topic="/odd")

    assert caught.value.render() == (
        "topic '/odd' has message encoding 'cbor', which nexus cannot decode\n"
        "  it decodes: json, cdr, protobuf, ros1"
    )


def test_a_message_that_is_not_json_names_its_topic_and_time(tmp_path: Path) -> None:
    path = tmp_path / "bad.mcap"
    _raw_channel(path, "json", "jsonschema", b"{not json")

    with pytest.raises(DataError, match=r"cannot decode a message of topic '/odd' logged at 1 ns"):
        MCAP.load(path, topic="/odd")


RESULTS = pd.DataFrame(
    {
        "t": [0.0, 0.005556, 1.25, 2.0],
        "x": [1.5, np.nan, -0.1, 1e-9],
        "n": [1, 2, 3, 4],
        "pose.position.x": [0.5, 0.25, 0.125, 0.0625],
        "label": ["a", "b", "c", "d"],
    }
)


def test_a_saved_frame_is_read_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "results.mcap"

    MCAP.save(RESULTS, path, topic="/results", start_ns=T0)

    pd.testing.assert_frame_equal(MCAP.load(path, topic="/results"), RESULTS, check_exact=True)


def test_saving_writes_json_channels_with_log_times_from_the_time_column(tmp_path: Path) -> None:
    from mcap.reader import make_reader

    path = tmp_path / "both.mcap"
    other = pd.DataFrame({"t": [0.5, 1.0], "v": [1.0, 2.0]})

    MCAP.save({"/results": RESULTS, "/other": other}, path, start_ns=T0)

    with open(path, "rb") as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        found = [(c.topic, m.log_time, json.loads(m.data)) for _, c, m in reader.iter_messages()]
    assert summary is not None
    channels = sorted(summary.channels.values(), key=lambda c: c.id)
    assert [(c.topic, c.message_encoding) for c in channels] == [
        ("/results", "json"),
        ("/other", "json"),
    ]
    assert {summary.schemas[c.schema_id].encoding for c in channels} == {"jsonschema"}
    assert [(topic, stamp - T0) for topic, stamp, _ in found] == [
        ("/results", 0),
        ("/results", 5_556_000),
        ("/other", 500_000_000),
        ("/other", 1_000_000_000),
        ("/results", 1_250_000_000),
        ("/results", 2_000_000_000),
    ]
    assert found[1][2] == {"x": None, "n": 2, "pose": {"position": {"x": 0.25}}, "label": "b"}


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            pd.DataFrame({"time": [0.0], "x": [1.0]}),
            "the table for topic '/r' has no time column 't'\n  its columns: time, x",
        ),
        (
            pd.DataFrame({"t": [-1.0], "x": [1.0]}),
            "the time column 't' of topic '/r' has missing, non-numeric or negative times",
        ),
        (
            pd.DataFrame({"t": [np.nan], "x": [1.0]}),
            "the time column 't' of topic '/r' has missing",
        ),
    ],
    ids=["no-time-column", "before-the-epoch", "missing-time"],
)
def test_a_frame_that_cannot_be_saved(tmp_path: Path, frame: pd.DataFrame, expected: str) -> None:
    with pytest.raises(DataError) as caught:
        MCAP.save(frame, tmp_path / "r.mcap", topic="/r")

    assert caught.value.render().startswith(expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"start_s": 2, "end_s": 1}, "the window ends before it starts: start_s=2, end_s=1"),
        ({"start_s": "2"}, "handler argument start_s must be a number of seconds, got '2'"),
        ({"from_start": "no"}, "handler argument from_start must be true or false, got 'no'"),
        ({"time_column": ""}, "handler argument time_column must be a name, got ''"),
        ({"stamp": "header"}, "topic '/a' has no time stamp 'header.stamp'"),
    ],
    ids=["window-backwards", "start-as-text", "from_start-as-text", "no-name", "no-header"],
)
def test_arguments_that_cannot_work(recording: Path, args: dict, expected: str) -> None:
    with pytest.raises(DataError) as caught:
        MCAP.load(recording, topic="/a", **args)

    assert caught.value.render().startswith(expected)
