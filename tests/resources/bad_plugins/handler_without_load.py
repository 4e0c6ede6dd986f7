"""A handler that cannot read."""

from pathlib import Path

from nexus import handler


@handler  # <- reported
class WriteOnly:
    name = "write_only"
    extensions = (".wo",)

    def save(self, obj: object, path: Path) -> None:
        path.write_text(str(obj))
