"""What a case's generator wrote is marked for git to ignore: it can be made again.

Each folder holding generated files gets a `.gitignore` naming them (and itself), so that a
user's own data beside them, or in another case, is never ignored by a pattern.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

__all__ = ["MARKER", "mark_generated"]

MARKER = ".gitignore"
HEADER = (
    "# Written by nexus: the files below were made by the case's generator,\n"
    "# and `python -m nexus generate-data` makes them again, so git leaves them out.\n"
)


def mark_generated(paths: list[Path]) -> list[Path]:
    """Write the marker beside `paths` (merged with one nexus wrote before); the markers."""
    by_folder: dict[Path, set[str]] = defaultdict(set)
    for path in paths:
        by_folder[path.parent].add(path.name)
    markers = []
    for folder, names in sorted(by_folder.items()):
        marker = folder / MARKER
        if marker.exists() and not marker.read_text(encoding="utf-8").startswith(HEADER):
            continue  # the user's own file: not ours to change
        names |= _listed(marker) | {MARKER}
        marker.write_text(HEADER + "".join(f"/{n}\n" for n in sorted(names)), encoding="utf-8")
        markers.append(marker)
    return markers


def _listed(marker: Path) -> set[str]:
    if not marker.exists():
        return set()
    lines = marker.read_text(encoding="utf-8").splitlines()
    return {line.lstrip("/") for line in lines if line and not line.startswith("#")}
