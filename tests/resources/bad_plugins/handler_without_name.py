"""A handler with neither a name attribute nor a name argument."""

from pathlib import Path

from nexus import handler


@handler(extensions=(".nn",))  # <- reported
class Nameless:
    def load(self, path: Path) -> str:
        return path.read_text()

    def save(self, obj: str, path: Path) -> None:
        path.write_text(obj)
