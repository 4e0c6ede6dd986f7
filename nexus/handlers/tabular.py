"""Handlers for tables: csv (pandas) and parquet (pyarrow)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from nexus.core.registry import handler
from nexus.errors import unknown_keys

__all__ = ["CsvHandler", "ParquetHandler"]


def _require_frame(obj: Any, handler_name: str) -> None:
    import pandas as pd

    if not isinstance(obj, pd.DataFrame):
        raise TypeError(
            f"handler '{handler_name}' saves a pandas DataFrame, got {type(obj).__name__}"
        )


@handler
class CsvHandler:
    """Comma-separated tables, read and written by pandas; no index column is written."""

    name = "csv"
    extensions = (".csv",)

    def load(self, path: Path, **args: Any) -> Any:
        """Args:
        **args: passed to `pandas.read_csv`, e.g. `sep`, `usecols`, `dtype`.
        """
        import pandas as pd

        return pd.read_csv(path, **args)

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        """Args:
        **args: passed to `DataFrame.to_csv`, e.g. `sep`, `float_format`; `index` is
            false unless given.
        """
        _require_frame(obj, self.name)
        obj.to_csv(path, **{"index": False, **args})

    def check_args(self, args: dict[str, Any], saving: bool) -> list[str]:
        """Keys that pandas' read_csv (load) or DataFrame.to_csv (save) does not take."""
        import pandas as pd

        taker = pd.DataFrame.to_csv if saving else pd.read_csv
        skip = ("self", "path_or_buf", "filepath_or_buffer")
        known = [p for p in inspect.signature(taker).parameters if p not in skip]
        return unknown_keys(args, known)


@handler
class ParquetHandler:
    """Columnar tables in Apache Parquet, through pyarrow; no index column is written."""

    name = "parquet"
    extensions = (".parquet", ".pq")

    def load(self, path: Path, **args: Any) -> Any:
        """Args:
        **args: passed to `pyarrow.parquet.read_table`, e.g. `columns`, `filters`.
        """
        import pyarrow.parquet as pq

        return pq.read_table(path, **args).to_pandas()

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        """Args:
        **args: passed to `pyarrow.parquet.write_table`, e.g. `compression`,
            `row_group_size`.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        _require_frame(obj, self.name)
        table = pa.Table.from_pandas(obj, preserve_index=False)
        pq.write_table(table, path, **args)
