"""The project: the folder holding `conf/config.yaml`, with its cases, plugins and outputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nexus.errors import ProjectError

__all__ = ["Project", "find_project"]

MARKER = Path("conf") / "config.yaml"


@dataclass(frozen=True)
class Project:
    """Paths of a project, all derived from its root."""

    root: Path

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins"

    @property
    def outputs_dir(self) -> Path:
        return self.root / "outputs"

    def case_dir(self, name: str) -> Path:
        return self.cases_dir / name

    def case_names(self) -> list[str]:
        """Names of the folders under `cases/` that hold a `case.yaml`, sorted."""
        if not self.cases_dir.is_dir():
            return []
        return sorted(p.parent.name for p in self.cases_dir.glob("*/case.yaml"))

    def relative(self, path: Path) -> str:
        """`path` relative to the root when it lies inside, for messages."""
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def find_project(start: Path | None = None) -> Project:
    """The project rooted at `start` (default: the current directory) or its nearest ancestor."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return Project(folder)
    raise ProjectError(
        f"no nexus project here: no {MARKER} in {here} or any folder above it",
        ["run nexus from the project root (the folder with conf/ and cases/)"],
    )
