"""Fixtures: fresh registries, example modules from tests/resources, temporary projects.

Every project test runs `nexus.cli.main([...])` in this process. main() puts back what Hydra
needs of the process (argv, stderr, logging, its global instance, the SIGTERM handler), and
the command's state lives in its session; what remains to undo is what importing a project's
code leaves: its `plugins.*` modules, its sys.path entry, and its configs in Hydra's store.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from hydra.core.config_store import ConfigStore

from nexus.cli.main import main
from nexus.core.registry import Registry

RESOURCES = Path(__file__).parent / "resources"

collect_ignore = ["resources"]

_module_ids = itertools.count()


@pytest.fixture
def registry() -> Registry:
    """An empty Registry of its own."""
    return Registry()


@pytest.fixture
def load_module(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import a file of tests/resources under a fresh module name, forgotten after the test."""

    def load(relative: str) -> ModuleType:
        path = RESOURCES / relative
        name = f"nexus_test_{path.stem}_{next(_module_ids)}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)  # pydantic resolves annotations here
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Undo, after the test, what importing a project's code leaves in this process."""
    # Like the `nexus` console script: no cwd on sys.path, no other project's `plugins/`.
    monkeypatch.setattr(sys, "path", [p for p in sys.path if _keeps(p)])
    saved = _pop_modules(lambda name, module: _is_plugins(name))
    importlib.invalidate_caches()
    yield
    _pop_modules(lambda name, module: _is_plugins(name) or _lives_in(module, tmp_path))
    sys.modules.update(saved)
    for key in ("case", "plugin_defaults", "nexus.yaml"):
        ConfigStore.instance().repo.pop(key, None)


def _keeps(entry: str) -> bool:
    return entry not in ("", os.getcwd()) and not (Path(entry) / "plugins").is_dir()


def _is_plugins(name: str) -> bool:
    return name == "plugins" or name.startswith("plugins.")


def _lives_in(module: object, folder: Path) -> bool:
    try:
        places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", None) or [])]
    except Exception:  # an odd module whose __path__ cannot be listed
        return False
    return any(place and str(place).startswith(str(folder)) for place in places)


def _pop_modules(which: Callable[[str, object], bool]) -> dict[str, ModuleType]:
    popped = {name: module for name, module in list(sys.modules.items()) if which(name, module)}
    for name in popped:
        del sys.modules[name]
    return popped


@dataclass
class ProjectDir:
    """A temporary project, the current directory of the test; `run`/`fail` call main()."""

    root: Path
    capsys: pytest.CaptureFixture[str]

    def write(self, relative: str, text: str) -> Path:
        """Write `text` (dedented) to a file of the project; returns its path."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        importlib.invalidate_caches()  # a module written now must be importable now
        return path

    def case(self, name: str, text: str) -> Path:
        """Write `cases/<name>/case.yaml`."""
        return self.write(f"cases/{name}/case.yaml", text)

    def run(self, *args: str) -> Path:
        """`python -m nexus ARGS` must succeed; returns the one run directory it created."""
        before = self.run_dirs()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        assert code == 0, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
        created = self.run_dirs() - before
        assert len(created) == 1, created
        return created.pop()

    def fail(self, *args: str) -> str:
        """`python -m nexus ARGS` must fail before running: one short message, no directory."""
        before = self.all_dirs()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        assert code == 1, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
        assert err.startswith("nexus: "), err
        assert err.count("nexus: ") == 1, err
        assert "Traceback" not in err
        assert self.all_dirs() == before, "a run that fails its checks must create no directory"
        return err

    def run_dirs(self) -> set[Path]:
        """The directories under outputs/ that hold a run.json."""
        return {p.parent for p in (self.root / "outputs").rglob("run.json")}

    def all_dirs(self) -> set[Path]:
        """Every directory under outputs/."""
        outputs = self.root / "outputs"
        return {p for p in outputs.rglob("*") if p.is_dir()} | (
            {outputs} if outputs.exists() else set()
        )


@pytest.fixture
def make_project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    isolated: None,
) -> Callable[[str], ProjectDir]:
    """Copy a project of tests/resources/projects into tmp_path and make it the current dir."""

    def make(template: str = "basic") -> ProjectDir:
        root = tmp_path / template
        shutil.copytree(
            RESOURCES / "projects" / template, root, ignore=shutil.ignore_patterns("__pycache__")
        )
        monkeypatch.chdir(root)
        return ProjectDir(root, capsys)

    return make


@pytest.fixture
def project(make_project: Callable[[str], ProjectDir]) -> ProjectDir:
    """The `basic` project: steps Maker, User, Reader, Twin, Needy; case c1 = [Maker, User]."""
    return make_project("basic")


@pytest.fixture
def installed_dist(tmp_path: Path, isolated: None) -> Path:
    """A distribution 'nexus-ext-demo' installed in a temporary site dir on sys.path.

    Its `*.dist-info` declares a module in `nexus.plugins` and a class in `nexus.handlers`,
    so importlib.metadata finds them as it would for a pip-installed package.
    """
    site = tmp_path / "site-packages"
    shutil.copytree(RESOURCES / "dist", site, ignore=shutil.ignore_patterns("__pycache__"))
    info = site / "nexus_ext_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: nexus-ext-demo\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[nexus.plugins]\nshout = nexus_ext_demo.steps\n\n"
        "[nexus.handlers]\nupper = nexus_ext_demo.handlers:UpperHandler\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(site))  # the copy of sys.path that `isolated` restores
    importlib.invalidate_caches()
    return site
