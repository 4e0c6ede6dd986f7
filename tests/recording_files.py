"""Recordings with two topics of known values at known times, each written by its library's writer.

Topic `/a` has 5 messages, `/b` 3, interleaved in time; the recording starts with `/a`'s first
message at T0, an epoch time with odd nanoseconds, so that a time off by one ns shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

T0 = 1_700_000_000_123_456_789
A_NS = [0, 100_000_000, 200_000_000, 300_000_000, 400_000_000]  # after T0
A_X = [1.5, -2.25, 3.0, 0.125, 0.001]
A_N = [1, 2, 3, 4, 5]
B_NS = [50_000_000, 250_000_000, 450_000_000]
B_V = [10.0, 20.5, -30.25]
B_NAME = ["one", "two", "three"]


def seconds(offsets_ns: list[int]) -> list[float]:
    """The times from the recording's first message, as the handlers give them."""
    return [offset / 1e9 for offset in offsets_ns]


def write_mcap_json(path: Path, summary: bool = True, chunk_size: int = 1024 * 1024) -> Path:
    """/a: {x, n, pose: {x, y}}, /b: {v, name}; JSON channels, by the mcap package's Writer."""
    import json

    from mcap.writer import IndexType, Writer

    # Without a summary: no index, no statistics, as a recorder that never finished indexing.
    options = (
        {}
        if summary
        else {
            "index_types": IndexType.NONE,
            "repeat_channels": False,
            "repeat_schemas": False,
            "use_statistics": False,
            "use_summary_offsets": False,
        }
    )
    with open(path, "wb") as stream:
        writer = Writer(stream, chunk_size=chunk_size, **options)
        writer.start(profile="", library="tests")
        schema = writer.register_schema("any", "jsonschema", b"{}")
        a = writer.register_channel("/a", "json", schema)
        b = writer.register_channel("/b", "json", schema)
        messages = [
            (T0 + ns, a, {"x": x, "n": n, "pose": {"x": x * 2, "y": -n}})
            for ns, x, n in zip(A_NS, A_X, A_N, strict=True)
        ] + [(T0 + ns, b, {"v": v, "name": s}) for ns, v, s in zip(B_NS, B_V, B_NAME, strict=True)]
        for index, (stamp, channel, message) in enumerate(sorted(messages, key=lambda m: m[0])):
            writer.add_message(channel, stamp, json.dumps(message).encode(), stamp + 7, index)
        writer.finish()
    return path


POINT_MSGDEF = """std_msgs/Header header
geometry_msgs/Point point
================================================================================
MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id
================================================================================
MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec
================================================================================
MSG: geometry_msgs/Point
float64 x
float64 y
float64 z"""


def write_mcap_ros2(path: Path) -> Path:
    """/a as ROS 2 geometry_msgs/PointStamped (cdr), stamped 1 s before it was logged."""
    from mcap_ros2.writer import Writer

    with open(path, "wb") as stream:
        writer = Writer(stream)
        schema = writer.register_msgdef("geometry_msgs/msg/PointStamped", POINT_MSGDEF)
        for ns, x, n in zip(A_NS, A_X, A_N, strict=True):
            stamp = T0 + ns - 1_000_000_000
            message = {
                "header": {"stamp": _stamp(stamp), "frame_id": "map"},
                "point": {"x": x, "y": float(n), "z": 0.0},
            }
            writer.write_message("/a", schema, message, log_time=T0 + ns, publish_time=T0 + ns)
        writer.finish()
    return path


def _stamp(ns: int) -> dict[str, int]:
    return {"sec": ns // 1_000_000_000, "nanosec": ns % 1_000_000_000}


def write_rosbag(path: Path, version: int) -> Path:
    """/a: geometry_msgs/PointStamped (x, y = n), /b: std_msgs/Float64 (v); ROS 1 or 2.

    `version` 1 writes a `.bag` file; 2 a ROS 2 bag folder (sqlite3); 3 one with mcap storage.
    """
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC if version == 1 else Stores.ROS2_HUMBLE)
    types = store.types
    point, header, time = (
        types["geometry_msgs/msg/PointStamped"],
        types["std_msgs/msg/Header"],
        types["builtin_interfaces/msg/Time"],
    )
    messages = []
    for ns, x, n in zip(A_NS, A_X, A_N, strict=True):
        stamp = time(**_stamp(T0 + ns - 1_000_000_000))
        head = header(seq=n, stamp=stamp, frame_id="map") if version == 1 else header(stamp, "map")
        body = point(head, types["geometry_msgs/msg/Point"](x=x, y=float(n), z=0.0))
        messages.append((T0 + ns, "/a", "geometry_msgs/msg/PointStamped", body))
    for ns, v in zip(B_NS, B_V, strict=True):
        messages.append((T0 + ns, "/b", "std_msgs/msg/Float64", types["std_msgs/msg/Float64"](v)))
    messages.sort(key=lambda m: m[0])
    kinds = {topic: kind for _, topic, kind, _ in messages}
    if version == 1:
        from rosbags.rosbag1 import Writer as Writer1

        with Writer1(path) as writer:
            conns = {t: writer.add_connection(t, m, typestore=store) for t, m in kinds.items()}
            for stamp, topic, kind, body in messages:
                writer.write(conns[topic], stamp, store.serialize_ros1(body, kind))
        return path
    from rosbags.rosbag2 import StoragePlugin
    from rosbags.rosbag2 import Writer as Writer2

    plugin = StoragePlugin.SQLITE3 if version == 2 else StoragePlugin.MCAP
    with Writer2(path, version=9, storage_plugin=plugin) as writer:
        conns = {t: writer.add_connection(t, m, typestore=store) for t, m in kinds.items()}
        for stamp, topic, kind, body in messages:
            writer.write(conns[topic], stamp, store.serialize_cdr(body, kind))
    return path


def write_hdf5(path: Path) -> Path:
    """/a: a group (t in ns since the epoch, x, n, pose/x, pose/y); /b: a compound dataset."""
    import h5py

    with h5py.File(path, "w") as file:
        a = file.create_group("a")
        a["t"] = np.array([T0 + ns for ns in A_NS], dtype=np.int64)
        a["x"] = np.array(A_X)
        a["n"] = np.array(A_N, dtype=np.int32)
        a["pose/x"] = np.array(A_X) * 2
        a["pose/y"] = -np.array(A_N, dtype=np.int32)
        b = np.zeros(3, dtype=[("t", "i8"), ("v", "f8"), ("name", "S8")])
        b["t"] = [T0 + ns for ns in B_NS]
        b["v"] = B_V
        b["name"] = [s.encode() for s in B_NAME]
        file["b"] = b
        file["imu/accel"] = np.arange(12.0).reshape(4, 3)  # a 2-D dataset of its own
    return path
