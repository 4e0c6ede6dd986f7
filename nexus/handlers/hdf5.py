"""Handler for HDF5 logs: a dataset, or a group of equal-length datasets, as a DataFrame."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nexus.core.registry import handler
from nexus.errors import DataError
from nexus.handlers.recording import (
    EXTRA,
    Clock,
    TopicInfo,
    clock_of,
    load_arguments,
    missing_topic,
    needs,
    other_args,
    with_time,
)

__all__ = ["Hdf5Handler"]

#: Nanoseconds per unit of the time column.
UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


@handler
class Hdf5Handler:
    """HDF5 logs: a dataset, or a group of equal-length datasets, as a DataFrame.

    Read by h5py (the `recordings` extra). A compound dataset gives a column per field, a 2-D
    one a column per index (`accel.0`, `accel.1`), a group a column per dataset, nested
    groups as dotted names. Saves a DataFrame as a group with a dataset per column.
    """

    name = "hdf5"
    extensions = (".h5", ".hdf5", ".hdf")
    extra = EXTRA
    requires = (("h5py", "h5py"),)

    def default_args(self, name: str) -> dict[str, Any]:
        """A logical name is, unless the case says otherwise, the dataset of its own name."""
        return {"dataset": f"/{name}"}

    def load(
        self,
        path: Path,
        dataset: str | None = None,
        time: str | None = "t",
        time_unit: str = "s",
        time_column: str = "t",
        from_start: bool = True,
        start_s: float | None = None,
        end_s: float | None = None,
        **save_args: Any,
    ) -> Any:
        """Read a dataset, or a group of equal-length datasets, as a DataFrame.

        Args:
            dataset: the dataset or group to read (default: `/` and the logical name). One the
                file lacks is an error listing those it has, with their lengths and types.
            time: the column holding the time; null for data without one.
            time_unit: that column's unit: `s`, `ms`, `us` or `ns`.
            time_column: the name of the time column, in seconds.
            from_start: true: seconds from the first row; false: as stored.
            start_s: only the rows from this second on, counted from the first row, found by
                binary search in the (ascending) time column: only those rows are read.
            end_s: only the rows before this second, counted the same way.
            **save_args: the save arguments, taken and left unused: one `handler_args` serves
                both load and save.
        """
        other_args(self, "load", save_args)
        h5py = needs("h5py", "h5py", self.name)
        clock = Clock(time_column, from_start, start_s, end_s)
        if time_unit not in UNITS:
            raise DataError(f"unknown time_unit '{time_unit}'", [f"known: {', '.join(UNITS)}"])
        path = Path(path)
        try:
            with h5py.File(path, "r") as file:
                return _read(file, path, dataset, time, UNITS[time_unit], clock)
        except DataError:
            raise
        except Exception as exc:
            raise _damaged(path, exc) from exc

    def check(self, path: Path, **args: Any) -> None:
        """Before a run: the arguments, and the dataset in the file."""
        chosen = load_arguments(self, args)
        clock_of(chosen)
        if chosen.get("time_unit", "s") not in UNITS:
            raise DataError(
                f"unknown time_unit '{chosen['time_unit']}'", [f"known: {', '.join(UNITS)}"]
            )
        h5py = needs("h5py", "h5py", self.name)
        name = chosen.get("dataset")
        try:
            with h5py.File(path, "r") as file:
                node = file.get(name) if name else None
                if node is None or not _is_table(node):
                    raise missing_topic(Path(path), name, _tables(file), arg="dataset")
        except DataError:
            raise
        except Exception as exc:
            raise _damaged(Path(path), exc) from exc

    def save(self, obj: Any, path: Path, dataset: str = "/data", **load_args: Any) -> None:
        """Write a DataFrame as a group with a dataset per column.

        Args:
            dataset: the group to write the columns to (default: `/` and the logical name).
            **load_args: the load arguments, taken and left unused: one `handler_args` serves
                both load and save.
        """
        other_args(self, "save", load_args)
        h5py = needs("h5py", "h5py", self.name)
        _write(h5py, obj, Path(path), dataset)


def _damaged(path: Path, exc: Exception) -> DataError:
    return DataError(
        f"cannot read {path.name} as HDF5: {type(exc).__name__}: {exc}",
        ["the file is damaged or cut off (was the writer stopped before it closed it?)"],
    )


def _read(
    file: Any, path: Path, name: str | None, time: str | None, unit: int, clock: Clock
) -> Any:
    node = file.get(name) if name else None
    if node is None or not _is_table(node):
        raise missing_topic(path, name, _tables(file), arg="dataset")
    columns = _columns(node, name or "")
    lengths = {column: len(source) for column, (source, _) in columns.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(
            f"the datasets of group '{name}' in {path.name} differ in length",
            [", ".join(f"{column}: {length}" for column, length in lengths.items())],
        )
    rows = next(iter(lengths.values()), 0)
    if time is None:
        if clock.start_s is not None or clock.end_s is not None:
            raise DataError("a window (start_s, end_s) needs a time column: set handler arg time")
        return _frame(columns, slice(0, rows))
    if time not in columns:
        raise DataError(
            f"'{name}' in {path.name} has no time column '{time}'",
            [
                f"its columns: {', '.join(columns)}",
                "name the one holding time with handler_args: {time: ...}, or time: null",
            ],
        )
    stamps = _Stamps(columns[time], unit)
    first = stamps[0] if rows else 0
    start, end = clock.window_ns(first)
    lo = 0 if start is None else bisect.bisect_left(stamps, start)
    hi = rows if end is None else bisect.bisect_left(stamps, end)
    frame = _frame(columns, slice(lo, max(lo, hi)))
    times = [stamps.of(value) for value in frame[time].tolist()]
    windowed = start is not None or end is not None
    if windowed and any(b < a for a, b in itertools.pairwise(times)):
        raise DataError(f"the time column '{time}' of '{name}' is not in ascending order")
    if time == clock.column:
        frame = frame.drop(columns=time)
    return with_time(frame, times, first, clock, name or "")


class _Stamps(Sequence[int]):
    """The time column in ns, read one element at a time: bisect reads only what it needs."""

    def __init__(self, column: tuple[Any, str | None], unit: int) -> None:
        self.source, self.field = column
        self.unit = unit

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: Any) -> Any:
        value = self.source[index]
        return self.of(value[self.field] if self.field else value)

    def of(self, value: Any) -> int:
        if np.issubdtype(np.asarray(value).dtype, np.integer):
            return int(value) * self.unit
        return round(float(value) * self.unit)


def _is_table(node: Any) -> bool:
    import h5py

    if isinstance(node, h5py.Dataset):
        return node.ndim >= 1
    return isinstance(node, h5py.Group) and any(
        isinstance(child, h5py.Dataset) for child in node.values()
    )


def _columns(node: Any, name: str) -> dict[str, tuple[Any, str | None]]:
    """Column name -> (dataset, field of a compound dtype or None); nothing is read yet."""
    import h5py

    if isinstance(node, h5py.Dataset):
        leaf = name.rstrip("/").split("/")[-1] or "value"
        return _dataset_columns(node, leaf if node.dtype.names is None else "")
    columns: dict[str, tuple[Any, str | None]] = {}
    # items(), not visititems(): it keeps the order the columns were written in, if tracked.
    for child_name, child in node.items():
        if isinstance(child, h5py.Dataset) and child.ndim >= 1:
            columns.update(_dataset_columns(child, child_name))
        elif isinstance(child, h5py.Group):
            nested = _columns(child, child_name)
            columns.update({f"{child_name}.{key}": value for key, value in nested.items()})
    return columns


def _dataset_columns(data: Any, prefix: str) -> dict[str, tuple[Any, str | None]]:
    if data.dtype.names:
        dot = f"{prefix}." if prefix else ""
        return {f"{dot}{field}": (data, field) for field in data.dtype.names}
    return {prefix: (data, None)}


def _frame(columns: dict[str, tuple[Any, str | None]], rows: slice) -> Any:
    """Read `rows` of every column; a 2-D column becomes one column per index."""
    import pandas as pd

    data: dict[str, Any] = {}
    read: dict[int, Any] = {}
    for column, (source, field) in columns.items():
        if id(source) not in read:
            read[id(source)] = source[rows]
        values = read[id(source)][field] if field else read[id(source)]
        if values.ndim == 1:
            data[column] = _decoded(values)
        else:
            flat = values.reshape(len(values), -1)
            data.update({f"{column}.{i}": flat[:, i] for i in range(flat.shape[1])})
    return pd.DataFrame(data)


def _decoded(values: np.ndarray) -> Any:
    if values.dtype.kind == "S" or (
        values.dtype.kind == "O" and values.size and isinstance(values[0], bytes)
    ):
        return [v.decode("utf-8", "replace") for v in values]
    return values


def _tables(file: Any) -> list[TopicInfo]:
    import h5py

    found: list[TopicInfo] = []

    def visit(name: str, node: Any) -> None:
        if isinstance(node, h5py.Dataset) and node.ndim >= 1:
            found.append(TopicInfo(f"/{name}", len(node), str(node.dtype)))
        elif isinstance(node, h5py.Group) and _is_table(node):
            found.append(TopicInfo(f"/{name}", _group_length(node), "group"))

    file.visititems(visit)
    return found


def _group_length(group: Any) -> int:
    import h5py

    return next((len(c) for c in group.values() if isinstance(c, h5py.Dataset) and c.ndim), 0)


def _write(h5py: Any, frame: Any, path: Path, group_name: str) -> None:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"handler 'hdf5' saves a pandas DataFrame, got {type(frame).__name__}")
    with h5py.File(path, "w", track_order=True) as file:  # columns read back in their order
        root = file.create_group(group_name, track_order=True) if group_name.strip("/") else file
        for column in frame.columns:
            *parents, leaf = str(column).split(".")
            group = root
            for part in parents:
                group = group.get(part) or group.create_group(part, track_order=True)
            values = frame[column]
            if values.dtype.kind in "biuf":
                group.create_dataset(leaf, data=values.to_numpy())
            else:
                text = values.astype(str).tolist()
                group.create_dataset(leaf, data=text, dtype=h5py.string_dtype())
