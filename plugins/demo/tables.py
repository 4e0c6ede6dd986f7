"""Checking the demo's time-stamped tables before a step computes with them.

Every table of the demo (measurements, ground truth, predicted states, video manifest) is a
series in time: the steps fit lines over trailing windows, interpolate, and take the frame
rate from the first and last stamps, so they need rows in time order with finite numbers.
A table in another order is sorted by `t` and the log says so; rows with an empty value are
left out, with a warning naming them; values that are not numbers, infinite, or so large that
their squares overflow are refused, naming the table and the row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nexus import DataError

__all__ = ["MAX_MAGNITUDE", "time_series", "times_outside"]

#: Larger values are refused: their squares (least squares, RMSE) would overflow a float.
MAX_MAGNITUDE = 1e150
SHOWN_ROWS = 3  # rows named in a message; the count says how many there are


def time_series(
    table: pd.DataFrame, what: str, logger: logging.Logger, columns: Sequence[str] = ("t", "x", "y")
) -> pd.DataFrame:
    """`table`'s `columns` as finite floats, in time order (by `t`), rows with a gap left out.

    The columns are there: the steps declare them (`DataSource(columns=...)`), nexus checks.

    Rows are named as a user counts them in the file: the first data row is row 1.
    """
    values = pd.DataFrame({c: pd.to_numeric(table[c], errors="coerce") for c in columns})
    values.index = pd.RangeIndex(1, len(values) + 1)
    _refuse(values, table, what, columns)
    gaps = values.isna().any(axis=1)
    if gaps.any():
        logger.warning(
            "%s: %s with an empty %s left out: %s",
            what,
            _count(int(gaps.sum()), "row"),
            " or ".join(columns),
            _rows(values.index[gaps]),
        )
        values = values[~gaps]
    if values.empty:
        raise DataError(f"{what} has no complete row ({', '.join(columns)} all set)")
    t = values["t"].to_numpy()
    if t.size > 1 and t.min() == t.max():
        logger.warning("%s: all %d rows share one time (t = %g)", what, t.size, t[0])
    elif t.size > 1 and not bool(np.all(t[1:] >= t[:-1])):
        first = int(np.argmax(t[1:] < t[:-1])) + 1
        logger.warning(
            "%s is not in time order (row %d has t = %g, after t = %g): sorted by t",
            what,
            values.index[first],
            t[first],
            t[first - 1],
        )
        values = values.sort_values("t", kind="stable")
    return values.reset_index(drop=True)


def times_outside(times: np.ndarray, data_t: np.ndarray) -> np.ndarray:
    """Which of `times` lie outside the span of `data_t` (sorted) by more than one sample."""
    if data_t.size == 0:
        return np.ones(times.size, dtype=bool)
    step = float(np.median(np.diff(data_t))) if data_t.size > 1 else 0.0
    return (times < data_t[0] - step) | (times > data_t[-1] + step)


def _refuse(values: pd.DataFrame, table: pd.DataFrame, what: str, columns: Sequence[str]) -> None:
    """Raise a DataError for values that are not numbers, infinite, or too large."""
    problems = []
    for column in columns:
        given = table[column].reset_index(drop=True)
        given.index = values.index
        text = values[column].isna() & given.notna()
        if text.any():
            row = int(values.index[text][0])
            problems.append(
                f"{_count(int(text.sum()), 'row')} with a {column} that is not a number, "
                f"first row {row}: {column} = {_shown(given[row])}"
            )
        huge = ~values[column].abs().le(MAX_MAGNITUDE) & values[column].notna()
        if huge.any():
            row = int(values.index[huge][0])
            value = _shown(values[column][row])
            problems.append(
                f"{_count(int(huge.sum()), 'row')} with an infinite or too large {column} "
                f"(beyond ±{MAX_MAGNITUDE:g}), first row {row}: {column} = {value}"
            )
    if problems:
        raise DataError(
            f"{what} holds values nexus cannot compute with",
            [*problems, "rows count from 1, the first after the header: fix them in the file"],
        )


def _shown(value: object) -> str:
    return f"{float(value):g}" if isinstance(value, int | float) else repr(str(value))


def _rows(index: pd.Index) -> str:
    shown = ", ".join(str(int(i)) for i in index[:SHOWN_ROWS])
    return f"rows {shown}" + (f" and {len(index) - SHOWN_ROWS} more" if len(index) > 3 else "")


def _count(count: int, what: str) -> str:
    return f"{count} {what}" + ("" if count == 1 else "s")
