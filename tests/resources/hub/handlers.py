"""Handlers for the DataHub tests; each records what the hub asked of it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nexus import handler


class _Json:
    def __init__(self) -> None:
        self.loads: list[Path] = []
        self.saves: list[Path] = []

    def load(self, path: Path, **args: Any) -> Any:
        self.loads.append(path)
        return json.loads(path.read_text(encoding="utf-8"))

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        self.saves.append(path)
        path.write_text(json.dumps(obj), encoding="utf-8")


@handler
class CountingJson(_Json):
    """JSON that counts its loads and saves."""

    name = "counting"
    extensions = (".cjson",)


@handler
class HalfWriter(_Json):
    """Writes the first half of the document, then fails: a crash in the middle of a save."""

    name = "half"
    extensions = (".half",)

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        self.saves.append(path)
        text = json.dumps(obj)
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text[: len(text) // 2])
            stream.flush()
            raise RuntimeError("disk went away half-way")


@handler
class HalfDirectoryWriter(_Json):
    """Writes one file of a directory, then fails."""

    name = "half_dir"
    extensions = ()

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        self.saves.append(path)
        path.mkdir()
        (path / "part_0.json").write_text(json.dumps(obj), encoding="utf-8")
        raise RuntimeError("the second part failed")


@handler
class Silent(_Json):
    """Claims to save but writes nothing."""

    name = "silent"
    extensions = (".silent",)

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        self.saves.append(path)


@handler
class Lines(_Json):
    """One item per line; saving consumes an iterator, loading returns a list."""

    name = "lines"
    extensions = (".lines",)

    def load(self, path: Path, **args: Any) -> list[str]:
        self.loads.append(path)
        return path.read_text(encoding="utf-8").splitlines()

    def save(self, obj: Iterable[Any], path: Path, **args: Any) -> None:
        self.saves.append(path)
        with open(path, "w", encoding="utf-8") as stream:
            for item in obj:
                stream.write(f"{item}\n")


@handler
class Reloading(Lines):
    """Like `Lines`, but declares that what it saved must be read back (as video and frames do)."""

    name = "reloading"
    extensions = (".reload",)
    reload_after_save = True
