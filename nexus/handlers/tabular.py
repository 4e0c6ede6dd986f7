"""Handlers for tables: csv (pandas) and parquet (pyarrow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus.core.registry import handler

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
        import pandas as pd

        return pd.read_csv(path, **args)

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        _require_frame(obj, self.name)
        obj.to_csv(path, **{"index": False, **args})


@handler
class ParquetHandler:
    """Columnar tables in Apache Parquet, through pyarrow; no index column is written."""

    name = "parquet"
    extensions = (".parquet", ".pq")

    def load(self, path: Path, **args: Any) -> Any:
        import pyarrow.parquet as pq

        return pq.read_table(path, **args).to_pandas()

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        _require_frame(obj, self.name)
        table = pa.Table.from_pandas(obj, preserve_index=False)
        pq.write_table(table, path, **args)
