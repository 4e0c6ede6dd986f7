"""Atomic writes: one temporary-name scheme, nothing half-written left on a failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nexus.core.files import PARTIAL_GLOB, atomic_path, partial_path, write_text_atomic


def files_in(folder: Path) -> list[str]:
    """Every file and directory below `folder`, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_temporary_name_is_hidden_unique_and_keeps_the_whole_final_name(tmp_path: Path) -> None:
    final = tmp_path / "archive.tar.gz"

    first, second = partial_path(final), partial_path(final)

    assert first != second
    assert first.parent == tmp_path
    assert first.name.startswith(".")
    assert first.name.endswith(".archive.tar.gz")  # a handler reading the extension sees it
    assert [p.name for p in tmp_path.glob(PARTIAL_GLOB)] == []
    first.touch()
    second.touch()
    assert sorted(tmp_path.glob(PARTIAL_GLOB)) == sorted([first, second])


def test_write_text_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "notes.md"

    write_text_atomic(target, "one\n")
    write_text_atomic(target, "two\r\nlines\n")

    assert target.read_bytes() == b"two\r\nlines\n"
    assert files_in(tmp_path) == ["deep", "deep/notes.md"]


def test_a_failed_write_keeps_the_earlier_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data.txt"
    target.write_text("complete", encoding="utf-8")

    def write_half() -> None:
        with atomic_path(target) as partial:
            partial.write_text("half", encoding="utf-8")
            raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError, match="disk went away"):
        write_half()

    assert target.read_text(encoding="utf-8") == "complete"
    assert files_in(tmp_path) == ["data.txt"]


def test_a_directory_replaces_an_earlier_directory_whole(tmp_path: Path) -> None:
    target = tmp_path / "frames"
    target.mkdir()
    (target / "old_0.png").write_bytes(b"old")

    with atomic_path(target) as partial:
        partial.mkdir()
        (partial / "new_0.png").write_bytes(b"new")

    assert files_in(tmp_path) == ["frames", "frames/new_0.png"]


def test_a_killed_writer_leaves_only_a_temporary_the_glob_finds(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    target.write_text("{}", encoding="utf-8")
    killed = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from nexus.core.files import atomic_path\n"
        "with atomic_path(Path(sys.argv[1])) as partial:\n"
        "    partial.write_text('{\"half', encoding='utf-8')\n"
        "    os._exit(9)\n"
    )

    done = subprocess.run([sys.executable, "-c", killed, str(target)], check=False)

    assert done.returncode == 9
    assert target.read_text(encoding="utf-8") == "{}"
    [left] = tmp_path.glob(PARTIAL_GLOB)
    assert left.name.endswith(".run.json")
