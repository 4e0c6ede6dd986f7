"""A handler offered through the `nexus.handlers` entry point group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus import handler


@handler
class UpperHandler:
    """Text files with the extension `.up`, stored in capitals."""

    name = "upper"
    extensions = (".up",)

    def load(self, path: Path, **args: Any) -> str:
        return path.read_text(encoding="utf-8")

    def save(self, obj: str, path: Path, **args: Any) -> None:
        path.write_text(obj.upper(), encoding="utf-8")
