"""git leaves out what a generator makes again, and nothing else: a user's case data is kept."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from nexus.core.generated import mark_generated
from nexus.testing import TempProject

REPO = Path(__file__).resolve().parents[2]

GENERATOR = """
    from pathlib import Path

    from nexus import generator


    @generator(name="made")
    def make(case_dir: Path) -> list[Path]:
        out = case_dir / "raw_data"
        out.mkdir(exist_ok=True)
        (out / "made.csv").write_text("value\\n1\\n")
        return [out / "made.csv"]
"""


def _untracked(root: Path) -> set[str]:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return {line[3:] for line in done.stdout.splitlines()}


def test_git_keeps_a_new_case_s_data_and_leaves_out_what_a_generator_makes(
    nexus_project: TempProject,
) -> None:
    root = nexus_project.root
    shutil.copy(REPO / ".gitignore", root / ".gitignore")  # this repository's, as a clone has
    nexus_project.write("plugins/gen.py", GENERATOR)
    nexus_project.run("new-case", "mine")
    case = (root / "cases/mine/case.yaml").read_text()
    nexus_project.case("made", case.replace("steps:", "generator: made\nsteps:", 1))
    (root / "cases/made/raw_data").mkdir()
    shutil.copy(root / "cases/mine/raw_data/numbers.csv", root / "cases/made/raw_data/")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)

    result = nexus_project.run("generate-data", "case=made")

    assert "made: wrote cases/made/raw_data/made.csv" in result.stdout
    untracked = _untracked(root)
    assert "cases/mine/raw_data/numbers.csv" in untracked  # the template's data: the user's
    assert "cases/made/raw_data/numbers.csv" in untracked  # the user's own, beside generated
    assert "cases/made/raw_data/made.csv" not in untracked
    assert "cases/made/raw_data/.gitignore" not in untracked


def test_a_marker_grows_with_what_is_generated_and_a_user_s_own_is_left_alone(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"

    mark_generated([first])
    [marker] = mark_generated([second])

    assert marker.read_text().splitlines()[2:] == ["/.gitignore", "/a.csv", "/b.csv"]
    own = tmp_path / "own"
    own.mkdir()
    (own / ".gitignore").write_text("*.tmp\n")
    assert mark_generated([own / "c.csv"]) == []
    assert (own / ".gitignore").read_text() == "*.tmp\n"
