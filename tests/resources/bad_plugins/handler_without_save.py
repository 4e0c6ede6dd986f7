"""A handler that cannot write."""

from pathlib import Path

from nexus import handler


@handler  # <- reported
class ReadOnly:
    name = "read_only"
    extensions = (".ro",)

    def load(self, path: Path) -> str:
        return path.read_text()
