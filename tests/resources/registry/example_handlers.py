"""Example handlers: bare `@handler`, `@handler(...)` with arguments, and overlapping extensions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus import handler


class _Text:
    def load(self, path: Path, **args: Any) -> str:
        return path.read_text(encoding="utf-8")

    def save(self, obj: str, path: Path, **args: Any) -> None:
        path.write_text(obj, encoding="utf-8")


@handler
class TextHandler(_Text):
    """Plain text."""

    name = "text"
    extensions = (".txt",)


@handler(name="upper", extensions=(".up", ".upper"))
class UpperHandler(_Text):
    """Text stored in capitals; name and extensions come from the decorator."""

    def save(self, obj: str, path: Path, **args: Any) -> None:
        path.write_text(obj.upper(), encoding="utf-8")


@handler(name="single", extensions=".one")  # type: ignore[arg-type]
class SingleExtensionHandler(_Text):
    """One extension given as a string rather than a tuple."""


@handler(name="gz", extensions=(".gz", ".jsonlines"))
class GzHandler(_Text):
    """Matches `.gz`; its other extension is long, which must not make it win `.tar.gz`."""


@handler(name="targz", extensions=(".tar.gz",))
class TarGzHandler(_Text):
    """Matches the longer `.tar.gz`."""
