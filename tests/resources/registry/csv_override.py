"""A project handler that replaces the built-in `csv` handler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus import handler


@handler
class SemicolonCsv:
    """csv with ';' between the columns."""

    name = "csv"
    extensions = (".csv",)

    def load(self, path: Path, **args: Any) -> Any:
        import pandas as pd

        return pd.read_csv(path, sep=";", **args)

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        obj.to_csv(path, sep=";", index=False, **args)
