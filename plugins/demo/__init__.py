"""The demo case: replays late, noisy 2-D measurements, compensates the latency, renders a video.

Modules: `data_generator` (the case's raw data), `compensator`, `renderer`, `video` (one step
each). The helper below is shared by the steps; it is no plugin.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from nexus import DataError

__all__ = ["require_columns"]


def require_columns(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a DataError naming the expected and found columns when `table` lacks some."""
    expected = list(columns)
    missing = [name for name in expected if name not in table.columns]
    if missing:
        raise DataError(
            f"{what} lacks column{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"'{name}'" for name in missing),
            [
                f"expected columns: {', '.join(expected)}",
                f"found columns: {', '.join(map(str, table.columns)) or '(none)'}",
            ],
        )
