"""The documentation site (mkdocs.yml, docs/) builds in strict mode, with every link resolved."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# What the site is built from: its config and pages, and the files its hook shows as pages.
SOURCES = ("mkdocs.yml", "docs", "README.md", "REFERENCE.md", "bench/README.md")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("material") is None,
    reason="the docs site needs mkdocs-material: pip install -e '.[docs]'",
)


def build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of the site whose mkdocs.yml is in `project`, into `site`."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_the_sources(folder: Path) -> Path:
    """The site's sources copied to `folder`, to be changed there."""
    for source in SOURCES:
        (folder / source).parent.mkdir(parents=True, exist_ok=True)
        if (REPO / source).is_dir():
            shutil.copytree(REPO / source, folder / source, ignore=shutil.ignore_patterns("__py*"))
        else:
            shutil.copy(REPO / source, folder / source)
    return folder


def test_the_site_builds_with_the_repository_files_as_pages(tmp_path: Path) -> None:
    done = build(REPO, tmp_path)

    assert done.returncode == 0, done.stderr
    home = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="set-up">' in home  # README.md
    assert 'href="sweeps/#ray"' in home  # README's docs/sweeps.md#ray, pointed at the page
    assert 'href="reference/"' in home  # and its REFERENCE.md
    reference = (tmp_path / "reference/index.html").read_text(encoding="utf-8")
    assert "Latency Compensator" in reference
    assert '<pre class="mermaid">' in reference  # the case's data flow is drawn
    performance = (tmp_path / "performance/index.html").read_text(encoding="utf-8")
    assert 'href="../benchmarks/"' in performance  # its ../bench/README.md
    assert "Benchmarks" in (tmp_path / "benchmarks/index.html").read_text(encoding="utf-8")
    assert not (tmp_path / "hooks").exists()


@pytest.mark.parametrize(
    ("page", "line", "named"),
    [
        ("docs/runs.md", "See [the plan](plan.md).", "plan.md"),
        ("docs/runs.md", "See [Ray](sweeps.md#ray-cluster).", "#ray-cluster"),
        ("docs/runs.md", "See [the demo](../cases/demo/case.yaml).", "case.yaml"),
        ("README.md", "See [the guide](docs/guide.md).", "guide.md"),
    ],
    ids=["missing page", "missing anchor", "file outside the site", "missing page from README"],
)
def test_a_broken_link_fails_the_build(tmp_path: Path, page: str, line: str, named: str) -> None:
    project = copy_of_the_sources(tmp_path / "project")
    with open(project / page, "a", encoding="utf-8") as text:
        text.write(f"\n{line}\n")

    done = build(project, tmp_path / "site")

    assert done.returncode != 0
    assert named in done.stderr


def test_a_page_missing_from_the_navigation_fails_the_build(tmp_path: Path) -> None:
    project = copy_of_the_sources(tmp_path / "project")
    (project / "docs/orphan.md").write_text("# A page no one can find\n", encoding="utf-8")

    done = build(project, tmp_path / "site")

    assert done.returncode != 0
    assert "orphan.md" in done.stderr
