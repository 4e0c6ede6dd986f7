"""What the recording handlers (mcap, rosbag, hdf5) share: time windows, rows, their errors.

A recording holds many topics (or datasets); a logical name is one of them, chosen by a
handler argument. Each handler turns the messages of that topic into a DataFrame whose first
column is the time in seconds, followed by the messages' fields, nested ones flattened to
dotted names (`pose.position.x`).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from nexus.errors import DataError, did_you_mean

__all__ = [
    "EXTRA",
    "Clock",
    "TopicInfo",
    "clock_of",
    "flatten",
    "load_arguments",
    "missing_packages",
    "missing_topic",
    "needs",
    "other_args",
    "rows_to_frame",
    "stamp_ns",
    "with_time",
]

#: The optional dependencies of nexus that the recording handlers may need.
EXTRA = "recordings"
NS = 1_000_000_000


def needs(module: str, package: str, handler: str, extra: str | None = EXTRA) -> ModuleType:
    """Import `module`, or fail naming the package (and nexus extra) that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        install = f"pip install 'nexus[{extra}]'" if extra else f"pip install {package}"
        raise DataError(
            f"handler '{handler}' needs the package '{package}', which is not installed",
            [f"install it: {install}" + (f" (or: pip install {package})" if extra else "")],
        ) from exc


def missing_packages(handler_obj: Any) -> str | None:
    """What to install for a handler whose `requires` names modules not installed, else None.

    Looks the modules up without importing them: `list` and the run's checks stay fast.
    """
    missing = [
        package
        for module, package in getattr(handler_obj, "requires", ())
        if importlib.util.find_spec(module) is None
    ]
    if not missing:
        return None
    extra = getattr(handler_obj, "extra", None)
    install = f"pip install 'nexus[{extra}]'" if extra else f"pip install {' '.join(missing)}"
    return f"needs {', '.join(missing)}: {install}"


def other_args(handler_obj: Any, method: str, given: dict[str, Any]) -> None:
    """Accept the other method's arguments, ignored; any other name is a mistake, named.

    One handler_args serves both load and save: an output read back by a later run is loaded
    with the arguments it was saved with.
    """
    own = _parameters(getattr(handler_obj, method))
    other = _parameters(getattr(handler_obj, "save" if method == "load" else "load"))
    unknown = [name for name in given if name not in other]
    if unknown:
        known = sorted({*own, *other})
        raise DataError(
            f"handler '{handler_obj.name}' has no argument '{unknown[0]}'",
            [did_you_mean(unknown[0], known), f"its arguments: {', '.join(known)}"],
        )


def load_arguments(handler_obj: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `args` that load takes; an unknown one is an error, as in load."""
    own = _parameters(handler_obj.load)
    other_args(handler_obj, "load", {k: v for k, v in args.items() if k not in own})
    return {k: v for k, v in args.items() if k in own}


def clock_of(args: dict[str, Any]) -> Clock:
    """The Clock that load's arguments ask for (checked)."""
    return Clock(
        args.get("time_column", "t"),
        args.get("from_start", True),
        args.get("start_s"),
        args.get("end_s"),
    )


def _parameters(method: Any) -> list[str]:
    return [
        p.name
        for p in inspect.signature(method).parameters.values()
        if p.name not in ("obj", "path") and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


@dataclass(frozen=True)
class TopicInfo:
    """One topic (or dataset) of a recording, as a missing-topic error lists it."""

    name: str
    count: int
    kind: str


def missing_topic(
    path: Path, wanted: str | None, topics: Iterable[TopicInfo], arg: str = "topic"
) -> DataError:
    """The error for a topic (or dataset) the recording lacks, listing those it has."""
    known = sorted(topics, key=lambda info: info.name)
    what, unit = ("topics", "messages") if arg == "topic" else ("datasets", "rows")
    first = (
        f"no {arg} given for {path.name}: choose one with handler_args: {{{arg}: ...}}"
        if wanted is None
        else f"{path.name} has no {arg} '{wanted}'"
    )
    return DataError(
        first,
        [
            did_you_mean(wanted, [info.name for info in known]) if wanted else "",
            f"its {what} ({len(known)}):" if known else f"it has no {what}",
            *(f"  {info.name}  ({info.count} {unit}, {info.kind})" for info in known),
        ],
    )


@dataclass(frozen=True)
class Clock:
    """How a handler times messages and which of them it keeps.

    Attributes:
        column: the name of the time column.
        from_start: seconds from the recording's first message (True) or from the Unix epoch.
        start_s: keep messages logged at or after this many seconds from the first message.
        end_s: keep messages logged before this many seconds from the first message.
    """

    column: str = "t"
    from_start: bool = True
    start_s: float | None = None
    end_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("start_s", "end_s"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value)
            ):
                raise DataError(
                    f"handler argument {name} must be a number of seconds, got {value!r}"
                )
        if self.start_s is not None and self.end_s is not None and self.end_s < self.start_s:
            raise DataError(
                f"the window ends before it starts: start_s={self.start_s}, end_s={self.end_s}",
                ["both count seconds from the recording's first message"],
            )
        if not isinstance(self.column, str) or not self.column:
            raise DataError(f"handler argument time_column must be a name, got {self.column!r}")
        if not isinstance(self.from_start, bool):
            raise DataError(
                f"handler argument from_start must be true or false, got {self.from_start!r}"
            )

    def window_ns(self, first_ns: int) -> tuple[int | None, int | None]:
        """The window as [start, end) log times in ns, for a recording starting at `first_ns`."""
        start = None if self.start_s is None else first_ns + round(self.start_s * NS)
        end = None if self.end_s is None else first_ns + round(self.end_s * NS)
        return start, end

    def seconds(self, stamps_ns: Sequence[int], first_ns: int) -> list[float]:
        """Stamps in ns as seconds, from the recording's first message or the epoch.

        Subtracting in integers first keeps nanoseconds exact: a float of epoch seconds
        resolves only ~0.2 us.
        """
        origin = first_ns if self.from_start else 0
        return [(stamp - origin) / NS for stamp in stamps_ns]


def flatten(message: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields of a message as one flat dict, nested names joined by dots.

    Dicts, dataclasses (rosbags), classes with __slots__ (mcap-ros2-support) and protobuf
    messages are opened up; sequences and arrays stay one value each (a cell of the row).
    """
    out = {} if out is None else out
    fields = _fields(message)
    if fields is None:
        out[prefix or "value"] = _plain(message)
        return out
    for name, value in fields:
        key = f"{prefix}.{name}" if prefix else name
        if _fields(value) is not None:
            flatten(value, key, out)
        else:
            out[key] = _plain(value)
    return out


def _fields(value: Any) -> Iterable[tuple[str, Any]] | None:
    """The (name, value) pairs of a message-like object, or None for a plain value."""
    if isinstance(value, dict):
        return value.items()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)  # rosbags adds __msgtype__: not the message's own
        return ((f.name, getattr(value, f.name)) for f in fields if not f.name.startswith("_"))
    if hasattr(value, "DESCRIPTOR") and hasattr(value, "ListFields"):  # protobuf
        # Every field of the schema, set or not, so that all rows have the same columns.
        return ((f.name, _repeated(getattr(value, f.name))) for f in value.DESCRIPTOR.fields)
    slots = getattr(type(value), "__slots__", None)
    if slots and not isinstance(value, str | bytes | int | float):
        return ((s, getattr(value, s)) for s in slots if not s.startswith("_"))
    return None


def _repeated(value: Any) -> Any:
    """A protobuf repeated field as a list; anything else as it is."""
    is_repeated = hasattr(value, "extend") and not isinstance(value, list | bytearray)
    return list(value) if is_repeated else value


def _plain(value: Any) -> Any:
    """Lists of messages as lists of dicts; numpy scalars as Python numbers."""
    if isinstance(value, list | tuple) and value and _fields(value[0]) is not None:
        return [flatten(item) for item in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def stamp_ns(row: dict[str, Any], field: str, topic: str) -> int:
    """The time in a message's field, in ns: a {sec, nanosec} stamp or a number of seconds."""
    if field in row and isinstance(row[field], int | float) and not isinstance(row[field], bool):
        return round(row[field] * NS)
    pairs = (("sec", "nanosec"), ("secs", "nsecs"), ("sec", "nsec"), ("seconds", "nanos"))
    for sec, nsec in pairs:
        if f"{field}.{sec}" in row and f"{field}.{nsec}" in row:
            return int(row[f"{field}.{sec}"]) * NS + int(row[f"{field}.{nsec}"])
    fields = ", ".join(list(row)[:12]) or "(none)"
    raise DataError(
        f"topic '{topic}' has no time stamp '{field}'",
        [
            f"its messages' fields: {fields}",
            "name a field holding {sec, nanosec} or seconds, or use stamp: log",
        ],
    )


def rows_to_frame(
    rows: list[dict[str, Any]],
    stamps_ns: list[int],
    first_ns: int,
    clock: Clock,
    topic: str,
    sample: Callable[[], dict[str, Any] | None] = lambda: None,
) -> Any:
    """A DataFrame: the time column, then the fields in the order the messages give them.

    With no rows (an empty window), `sample` gives one message of the topic, if it has any,
    so the empty table has the columns and types a step expects.
    """
    import pandas as pd

    example = sample() if not rows else None
    if rows:
        frame = pd.DataFrame.from_records(rows)
    elif example is not None:
        frame = pd.DataFrame.from_records([example]).iloc[:0]
    else:
        frame = pd.DataFrame()
    return with_time(frame, stamps_ns, first_ns, clock, topic)


def with_time(frame: Any, stamps_ns: list[int], first_ns: int, clock: Clock, topic: str) -> Any:
    """`frame` with the time column put first; a field of the same name is an error."""
    import pandas as pd

    if clock.column in frame.columns:
        raise DataError(
            f"topic '{topic}' has a field named '{clock.column}', the name of the time column",
            ["name the time column otherwise: handler_args: {time_column: time}"],
        )
    frame.insert(0, clock.column, pd.Series(clock.seconds(stamps_ns, first_ns), dtype=float))
    frame.attrs.update({"topic": topic, "first_ns": first_ns})
    return frame
