"""Writing DataFrames as MCAP: one JSON channel per topic, a row per message, in log-time order."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from nexus.errors import DataError

__all__ = ["json_schema", "write_frames"]

NS = 1_000_000_000


def write_frames(frames: dict[str, Any], path: Path, time_column: str, start_ns: int) -> None:
    """Write each DataFrame as the channel of its topic; the messages of all in time order."""
    from mcap.writer import Writer

    if not frames:
        raise ValueError("nothing to save as MCAP: the mapping of topics to tables is empty")
    channels, times, messages = [], [], []
    for topic, frame in frames.items():
        log_times = _log_times(frame, topic, time_column, start_ns)
        fields = [c for c in frame.columns if c != time_column]
        channels.append((topic, json_schema(frame[fields])))
        times.append(log_times)
        messages.append(_messages(frame[fields]))
    with open(path, "wb") as stream:
        writer = Writer(stream)
        writer.start(profile="", library="nexus")
        ids = [
            writer.register_channel(
                topic,
                "json",
                writer.register_schema(topic.strip("/") or "data", "jsonschema", schema),
            )
            for topic, schema in channels
        ]
        for which, row in _in_time_order(times):
            log_time = int(times[which][row])
            writer.add_message(ids[which], log_time, messages[which][row], log_time, row)
        writer.finish()


def _log_times(frame: Any, topic: str, column: str, start_ns: int) -> np.ndarray:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"handler 'mcap' saves DataFrames, got {type(frame).__name__} for {topic}")
    if column not in frame.columns:
        raise DataError(
            f"the table for topic '{topic}' has no time column '{column}'",
            [
                f"its columns: {', '.join(map(str, frame.columns)) or '(none)'}",
                "name the column of seconds with handler_args: {time_column: ...}",
            ],
        )
    seconds = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    offsets = np.rint(seconds * NS)
    # In integers: a float of epoch nanoseconds would round them to 256 ns.
    stamps = offsets.astype(np.int64) + int(start_ns) if np.all(np.isfinite(offsets)) else None
    if stamps is None or (stamps.size and stamps.min() < 0):
        raise DataError(
            f"the time column '{column}' of topic '{topic}' has missing, non-numeric or "
            "negative times",
            ["MCAP log times are nanoseconds since the Unix epoch: give start_ns to shift them"],
        )
    return stamps


def _in_time_order(times: list[np.ndarray]) -> list[tuple[int, int]]:
    """(table, row) pairs by log time; ties keep the tables' and the rows' order."""
    which = np.concatenate([np.full(t.size, i) for i, t in enumerate(times)])
    rows = np.concatenate([np.arange(t.size) for t in times])
    order = np.argsort(np.concatenate(times), kind="stable")
    return list(zip(which[order].tolist(), rows[order].tolist(), strict=True))


def _messages(frame: Any) -> list[bytes]:
    """Each row as a JSON object; dotted column names nest again, NaN becomes null."""
    columns = [_column_values(frame[name]) for name in frame.columns]
    paths = [str(name).split(".") for name in frame.columns]
    encoded = []
    for values in zip(*columns, strict=True) if columns else [()] * len(frame):
        message: dict[str, Any] = {}
        for path, value in zip(paths, values, strict=True):
            _place(message, path, value)
        encoded.append(json.dumps(message, allow_nan=False, default=_plain).encode())
    return encoded


def _column_values(column: Any) -> list[Any]:
    values = column.tolist()  # numpy scalars become Python numbers
    if column.dtype.kind == "f":
        return [None if math.isnan(v) else v for v in values]
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def _place(message: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        message = message.setdefault(part, {})
    message[path[-1]] = value


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_schema(frame: Any) -> bytes:
    """A JSON schema of the rows, so that viewers know each field's type."""
    properties: dict[str, Any] = {}
    for name in frame.columns:
        *parents, leaf = str(name).split(".")
        node = properties
        for part in parents:
            node = node.setdefault(part, {"type": "object", "properties": {}})["properties"]
        node[leaf] = _json_type(frame[name].dtype)
    return json.dumps({"type": "object", "properties": properties}).encode()


def _json_type(dtype: Any) -> dict[str, Any]:
    kind = getattr(dtype, "kind", "O")
    if kind == "f":
        return {"type": ["number", "null"]}
    if kind in "iu":
        return {"type": "integer"}
    if kind == "b":
        return {"type": "boolean"}
    return {}
