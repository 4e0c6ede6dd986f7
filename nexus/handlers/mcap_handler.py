"""Handler for MCAP recordings: one topic read as a DataFrame, DataFrames written as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from nexus.core.registry import handler
from nexus.errors import DataError
from nexus.handlers.mcap_write import write_frames
from nexus.handlers.recording import (
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

__all__ = ["McapHandler"]

#: Message encodings other than JSON, and the package whose DecoderFactory decodes them.
DECODERS = {
    "cdr": ("mcap_ros2.decoder", "mcap-ros2-support"),
    "protobuf": ("mcap_protobuf.decoder", "mcap-protobuf-support"),
    "ros1": ("mcap_ros1.decoder", "mcap-ros1-support"),
}
MAGIC = b"\x89MCAP0\r\n"
DAMAGED = [
    "the file is damaged or cut off (was the recorder stopped before it closed the file?)",
    "the mcap command-line tool can often rescue what it holds: mcap recover FILE -o FIXED.mcap",
]


@handler
class McapHandler:
    """MCAP recordings (Foxglove, ROS 2): one topic as a DataFrame; DataFrames saved as JSON.

    The columns: the time, then the messages' fields, nested ones as dotted names
    (`pose.position.x`); sequences stay one cell. JSON channels are read as they are, ROS 2
    (`cdr`) ones through mcap-ros2-support, protobuf ones through mcap-protobuf-support.
    """

    name = "mcap"
    extensions = (".mcap",)
    requires = (("mcap", "mcap"),)  # a dependency of nexus: missing only in a broken install

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
        **save_args: Any,
    ) -> Any:
        """Read one topic of the recording as a DataFrame: the time, then the fields.

        Args:
            topic: the topic to read (default: `/` and the logical name). A topic the file
                lacks is an error listing those it has, with their message counts and types.
            time_column: the name of the time column.
            from_start: true: seconds from the recording's first message (of any topic);
                false: seconds since the Unix epoch.
            stamp: where each message's time comes from: `log` (its log time), `publish`,
                `header` (its `header.stamp`), or any field holding `{sec, nanosec}` or seconds.
            start_s: only the messages logged from this second on, counted from the
                recording's first message; only the chunks the file's index puts there are read.
            end_s: only the messages logged before this second, counted the same way.
            **save_args: the save arguments, taken and left unused: one `handler_args` serves
                both load and save.
        """
        other_args(self, "load", save_args)
        needs("mcap.reader", "mcap", self.name, extra=None)
        clock = Clock(time_column, from_start, start_s, end_s)
        try:
            with open(path, "rb") as stream:
                return _read_topic(stream, Path(path), topic, clock, stamp)
        except DataError:
            raise
        except Exception as exc:
            raise _damaged(Path(path), exc) from exc

    def check(self, path: Path, **args: Any) -> None:
        """Before a run: the arguments, and the topic in the recording's summary."""
        topic = load_arguments(self, args).get("topic")
        clock_of(args)
        needs("mcap.reader", "mcap", self.name, extra=None)
        from mcap.reader import SeekingReader

        try:
            with open(path, "rb") as stream:
                _check_magic(stream, Path(path))
                summary = SeekingReader(stream).get_summary()
        except DataError:
            raise
        except Exception as exc:
            raise _damaged(Path(path), exc) from exc
        if summary is not None and topic not in {c.topic for c in summary.channels.values()}:
            counts = summary.statistics.channel_message_counts if summary.statistics else {}
            infos = _infos(summary.channels.values(), summary.schemas, counts)
            raise missing_topic(Path(path), topic, infos)

    def save(
        self,
        obj: Any,
        path: Path,
        topic: str | None = None,
        time_column: str = "t",
        start_ns: int = 0,
        **load_args: Any,
    ) -> None:
        """Write a DataFrame, or a mapping {topic: DataFrame}, as JSON channels.

        Args:
            topic: the channel's topic (default: `/` and the logical name).
            time_column: the column of seconds that becomes each message's log and publish
                time; the other columns are the message, dotted names nested again.
            start_ns: the log time of t = 0, in ns since the Unix epoch; give the recording's
                start to show results next to it in a viewer.
            **load_args: the load arguments, taken and left unused: one `handler_args` serves
                both load and save.
        """
        other_args(self, "save", load_args)
        frames = dict(obj) if isinstance(obj, Mapping) else {topic or "/data": obj}
        write_frames(frames, Path(path), time_column, start_ns)


def _damaged(path: Path, exc: Exception) -> DataError:
    return DataError(f"cannot read {path.name} as MCAP: {type(exc).__name__}: {exc}", DAMAGED)


def _check_magic(stream: Any, path: Path) -> None:
    """MCAP begins and ends with the same magic bytes: a file cut off lacks the last ones."""
    head = stream.read(len(MAGIC))
    stream.seek(-min(len(MAGIC), stream.seek(0, 2)), 2)
    tail = stream.read(len(MAGIC))
    stream.seek(0)
    if head != MAGIC:
        raise DataError(f"{path.name} is not an MCAP file: it does not begin with MCAP's magic")
    if tail != MAGIC:
        raise DataError(
            f"{path.name} is cut off: it does not end with MCAP's closing magic bytes", DAMAGED
        )


def _read_topic(stream: Any, path: Path, topic: str | None, clock: Clock, stamp: str) -> Any:
    from mcap.reader import NonSeekingReader, SeekingReader

    _check_magic(stream, path)
    reader = SeekingReader(stream)
    summary = reader.get_summary()
    if summary is None or not summary.chunk_indexes:  # no index: one pass through the file
        stream.seek(0)
        return _scan(NonSeekingReader(stream), path, topic, clock, stamp)
    counts = summary.statistics.channel_message_counts if summary.statistics else {}
    infos = _infos(summary.channels.values(), summary.schemas, counts)
    if topic is None or topic not in {c.topic for c in summary.channels.values()}:
        raise missing_topic(path, topic, infos)
    first = (
        summary.statistics.message_start_time
        if summary.statistics
        else min(c.message_start_time for c in summary.chunk_indexes)
    )
    start, end = clock.window_ns(first)
    found = reader.iter_messages(topics=[topic], starting_at=start, ending_before=end)
    return _frame(found, first, clock, topic, stamp, lambda: reader.iter_messages(topics=[topic]))


def _scan(reader: Any, path: Path, topic: str | None, clock: Clock, stamp: str) -> Any:
    """Read an MCAP without a summary: keep the topic's messages, learn the file's start."""
    kept, counts, channels, schemas, first = [], {}, {}, {}, None
    for schema, channel, message in reader.iter_messages(log_time_order=False):
        channels[channel.id] = channel
        if schema is not None:
            schemas[schema.id] = schema
        counts[channel.id] = counts.get(channel.id, 0) + 1
        first = message.log_time if first is None else min(first, message.log_time)
        if channel.topic == topic:
            kept.append((schema, channel, message))
    if topic is None or not any(c.topic == topic for c in channels.values()):
        raise missing_topic(path, topic, _infos(channels.values(), schemas, counts))
    start, end = clock.window_ns(first or 0)
    inside = [
        item
        for item in sorted(kept, key=lambda item: item[2].log_time)
        if (start is None or item[2].log_time >= start) and (end is None or item[2].log_time < end)
    ]
    return _frame(iter(inside), first or 0, clock, topic, stamp, lambda: iter(kept))


def _infos(channels: Any, schemas: Mapping[int, Any], counts: Mapping[int, int]) -> list[TopicInfo]:
    infos: dict[str, TopicInfo] = {}
    for channel in channels:
        schema = schemas.get(channel.schema_id)
        kind = f"{channel.message_encoding}" + (f" {schema.name}" if schema and schema.name else "")
        known = infos.get(channel.topic)
        count = counts.get(channel.id, 0) + (known.count if known else 0)
        infos[channel.topic] = TopicInfo(channel.topic, count, kind)
    return list(infos.values())


def _frame(
    found: Iterator[Any],
    first: int,
    clock: Clock,
    topic: str,
    stamp: str,
    everything: Callable[[], Iterator[Any]],
) -> Any:
    """The messages `found` as a table; `everything` gives the topic's, to learn its columns."""
    decoders: dict[int, Callable[[bytes], Any]] = {}

    def row_of(schema: Any, channel: Any, message: Any) -> dict[str, Any]:
        decode = decoders.get(channel.id)
        if decode is None:
            decode = decoders[channel.id] = _decoder(schema, channel)
        try:
            return flatten(decode(message.data))
        except Exception as exc:
            raise DataError(
                f"cannot decode a message of topic '{topic}' logged at {message.log_time} ns: "
                f"{type(exc).__name__}: {exc}",
                [
                    f"its channel's message encoding: {channel.message_encoding}",
                    "the message does not fit its channel's encoding or schema, or the file "
                    "is damaged",
                ],
            ) from exc

    rows, stamps = [], []
    for schema, channel, message in found:
        rows.append(row_of(schema, channel, message))
        stamps.append(_stamp(stamp, message, rows[-1], topic))

    def sample() -> dict[str, Any] | None:
        first_message = next(everything(), None)
        return None if first_message is None else row_of(*first_message)

    return rows_to_frame(rows, stamps, first, clock, topic, sample)


def _stamp(stamp: str, message: Any, row: dict[str, Any], topic: str) -> int:
    if stamp == "log":
        return int(message.log_time)
    if stamp == "publish":
        return int(message.publish_time)
    return stamp_ns(row, "header.stamp" if stamp == "header" else stamp, topic)


def _decoder(schema: Any, channel: Any) -> Callable[[bytes], Any]:
    """How the messages of a channel are decoded, by its message encoding."""
    encoding = channel.message_encoding
    if encoding == "json":
        return json.loads
    if encoding not in DECODERS:
        raise DataError(
            f"topic '{channel.topic}' has message encoding '{encoding}', which nexus cannot decode",
            [f"it decodes: json, {', '.join(DECODERS)}"],
        )
    module, package = DECODERS[encoding]
    decode = (
        needs(module, package, "mcap", extra=None).DecoderFactory().decoder_for(encoding, schema)
    )
    if decode is None:
        kind = f"schema encoding '{schema.encoding}'" if schema else "no schema"
        raise DataError(
            f"{package} cannot decode topic '{channel.topic}' ({encoding}, {kind})",
            ["a ROS 2 channel needs a ros2msg schema, a protobuf one its descriptor set"],
        )
    return decode  # type: ignore[no-any-return]
