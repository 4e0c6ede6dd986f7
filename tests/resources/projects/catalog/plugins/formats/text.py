"""A handler for plain text, and the generator of the words case's input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nexus import generator, handler


@handler
class TextHandler:
    """Plain text files, read whole."""

    name = "text"
    extensions = (".txt", ".text")

    def load(self, path: Path, encoding: str = "utf-8", **args: Any) -> str:
        """Read the whole file.

        Args:
            encoding: the text's encoding,
                as Python names it.
            **args: ignored.
        """
        return path.read_text(encoding=encoding)

    def save(self, obj: str, path: Path, *, encoding: str = "utf-8", newline: str = "\n") -> None:
        path.write_text(obj, encoding=encoding, newline=newline)


@generator(name="sample_text")
def write_sample_text(case_dir: Path) -> list[Path]:
    """Write raw/input.txt: a few short sentences."""
    path = Path(case_dir) / "raw" / "input.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("The cat sat. The cat ran, the dog sat.\n", encoding="utf-8")
    return [path]
