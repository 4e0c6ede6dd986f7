"""Handler for JSON documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nexus.core.registry import handler

__all__ = ["JsonHandler"]


@handler
class JsonHandler:
    """JSON documents (dicts, lists, numbers, strings); numpy scalars are written as numbers."""

    name = "json"
    extensions = (".json",)

    def load(self, path: Path, **args: Any) -> Any:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream, **args)

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(obj, stream, **{"indent": 2, "default": _plain, **args})
            stream.write("\n")


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
