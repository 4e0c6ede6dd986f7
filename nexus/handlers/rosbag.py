"""Handler for ROS bags: ROS 1 `.bag` files and ROS 2 bag folders, read through rosbags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus.core.registry import handler
from nexus.errors import DataError
from nexus.handlers.recording import (
    EXTRA,
    Clock,
    TopicInfo,
    clock_of,
    flatten,
    load_arguments,
    missing_topic,
    needs,
    other_args,
    rows_to_frame,
    stamp_ns,
)

__all__ = ["RosbagHandler"]


@handler
class RosbagHandler:
    """ROS 1 `.bag` files and ROS 2 bag folders (sqlite3 or mcap): one topic as a DataFrame.

    Read by rosbags (pure Python, no ROS installation needed; the `recordings` extra). The
    columns: the time, then the messages' fields, nested ones as dotted names
    (`header.stamp.sec`); sequences stay one cell. A ROS 2 bag folder has no extension to
    tell its handler: name it, `handler: rosbag`. Bags are only read, never written.
    """

    name = "rosbag"
    extensions = (".bag",)
    extra = EXTRA
    requires = (("rosbags", "rosbags"),)

    def default_args(self, name: str) -> dict[str, Any]:
        """A logical name is, unless the case says otherwise, the topic of its own name."""
        return {"topic": f"/{name}"}

    def load(
        self,
        path: Path,
        topic: str | None = None,
        time_column: str = "t",
        from_start: bool = True,
        stamp: str = "log",
        start_s: float | None = None,
        end_s: float | None = None,
        typestore: str = "ros2_humble",
        **save_args: Any,
    ) -> Any:
        """Read one topic of the bag as a DataFrame: the time, then the fields.

        Args:
            topic: the topic to read (default: `/` and the logical name). A topic the bag
                lacks is an error listing those it has, with their message counts and types.
            time_column: the name of the time column.
            from_start: true: seconds from the bag's first message (of any topic); false:
                seconds since the Unix epoch.
            stamp: where each message's time comes from: `log` (when it was recorded),
                `header` (its `header.stamp`), or any field holding `{sec, nanosec}` or seconds.
            start_s: only the messages recorded from this second on, counted from the bag's
                first message, found through the bag's index.
            end_s: only the messages recorded before this second, counted the same way.
            typestore: the message types for a ROS 2 bag that does not hold their definitions
                (any of rosbags' stores, e.g. `ros2_jazzy`).
            **save_args: the save arguments, taken and left unused: one `handler_args` serves
                both load and save.
        """
        other_args(self, "load", save_args)
        highlevel = needs("rosbags.highlevel", "rosbags", self.name)
        clock = Clock(time_column, from_start, start_s, end_s)
        path = Path(path)
        _check_layout(path)
        try:
            with highlevel.AnyReader([path], default_typestore=_typestore(typestore)) as bag:
                return _read_topic(bag, path, topic, clock, stamp)
        except DataError:
            raise
        except Exception as exc:
            raise _damaged(path, exc) from exc

    def check(self, path: Path, **args: Any) -> None:
        """Before a run: the arguments, and the topic in the bag's index."""
        chosen = load_arguments(self, args)
        clock_of(chosen)
        highlevel = needs("rosbags.highlevel", "rosbags", self.name)
        path = Path(path)
        _check_layout(path)
        store = _typestore(chosen.get("typestore", "ros2_humble"))
        try:
            with highlevel.AnyReader([path], default_typestore=store) as bag:
                topics = bag.topics
        except Exception as exc:
            raise _damaged(path, exc) from exc
        if chosen.get("topic") not in topics:
            infos = [TopicInfo(name, info.msgcount, info.msgtype) for name, info in topics.items()]
            raise missing_topic(path, chosen.get("topic"), infos)

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        """Bags are only read: saving one is an error that suggests MCAP.

        Args:
            **args: none is taken.
        """
        raise DataError(
            "handler 'rosbag' only reads bags",
            ["save the table as MCAP (handler: mcap), which ROS 2 and Foxglove open"],
        )


def _damaged(path: Path, exc: Exception) -> DataError:
    return DataError(
        f"cannot read {path.name} as a ROS bag: {type(exc).__name__}: {exc}",
        [
            "the bag is damaged or cut off (was the recorder stopped before it closed the bag?)",
            "`rosbag reindex` (ROS 1) or `ros2 bag reindex` (ROS 2) rebuilds its index",
        ],
    )


def _check_layout(path: Path) -> None:
    """A ROS 1 bag is a `.bag` file, a ROS 2 bag a folder with its metadata.yaml."""
    if path.is_dir() and not (path / "metadata.yaml").is_file():
        raise DataError(
            f"{path.name} is not a ROS 2 bag folder: it has no metadata.yaml",
            ["`ros2 bag reindex` writes it again from the bag's storage files"],
        )
    if path.is_file() and path.suffix != ".bag":
        raise DataError(
            f"{path.name} is neither a ROS 1 bag (.bag) nor a ROS 2 bag folder",
            ["for a ROS 2 bag, give the folder holding metadata.yaml, not a file in it"],
        )


def _typestore(name: str) -> Any:
    from rosbags.typesys import Stores, get_typestore

    try:
        return get_typestore(Stores(name))
    except ValueError:
        raise DataError(
            f"unknown typestore '{name}'",
            [f"known: {', '.join(store.value for store in Stores)}"],
        ) from None


def _read_topic(bag: Any, path: Path, topic: str | None, clock: Clock, stamp: str) -> Any:
    topics = bag.topics
    if topic is None or topic not in topics:
        infos = [TopicInfo(name, info.msgcount, info.msgtype) for name, info in topics.items()]
        raise missing_topic(path, topic, infos)
    first = bag.start_time if bag.message_count else 0
    start, end = clock.window_ns(first)
    rows, stamps = [], []
    for connection, logged, raw in bag.messages(topics[topic].connections, start, end):
        row = flatten(bag.deserialize(raw, connection.msgtype))
        rows.append(row)
        stamps.append(logged if stamp == "log" else _field_stamp(stamp, row, topic))

    def sample() -> dict[str, Any] | None:
        found = next(bag.messages(topics[topic].connections), None)
        return None if found is None else flatten(bag.deserialize(found[2], found[0].msgtype))

    return rows_to_frame(rows, stamps, first, clock, topic, sample)


def _field_stamp(stamp: str, row: dict[str, Any], topic: str) -> int:
    return stamp_ns(row, "header.stamp" if stamp == "header" else stamp, topic)
