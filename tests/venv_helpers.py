"""A throwaway virtual environment on top of the test environment, to install packages into.

It sees everything installed in the environment running the tests (nexus too), but what pip
installs into it stays in it: the test environment, and other tests running beside, never
see the example packages. The test environment may itself be a venv, as a user's is: so the
new venv is layered on the site-packages of the interpreter running the tests, not on the base
interpreter that `--system-site-packages` would give it.
"""

from __future__ import annotations

import os
import site
import subprocess
import sysconfig
import venv
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["Venv", "in_test_environment"]


@dataclass(frozen=True)
class Venv:
    """A venv at `root`; `bin` holds its python and a `pip` that installs into it."""

    root: Path

    @classmethod
    def create(cls, root: Path) -> Venv:
        """A new venv without its own pip: `python -m pip` runs the test environment's."""
        venv.create(root, system_site_packages=False, with_pip=False, symlinks=True)
        made = cls(root)
        made.site_packages.joinpath("_test_environment.pth").write_text(
            _layer_on(site.getsitepackages()), encoding="utf-8"
        )
        shim = made.bin / "pip"
        shim.write_text(f'#!/bin/sh\nexec "{made.python}" -m pip "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
        return made

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def site_packages(self) -> Path:
        """Where this venv's python looks for packages (the `venv` scheme where Python has it)."""
        names = sysconfig.get_scheme_names()
        scheme = "venv" if "venv" in names else sysconfig.get_default_scheme()
        paths = {"base": str(self.root), "platbase": str(self.root)}
        return Path(sysconfig.get_path("purelib", scheme, vars=paths))

    def env(self) -> dict[str, str]:
        """The environment of a shell in this venv: its bin first on PATH."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HYDRA_"))}
        env.pop("PYTHONPATH", None)
        env["VIRTUAL_ENV"] = str(self.root)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return env

    def run(self, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run `args` (e.g. `python -m nexus list`) in `cwd` with this venv first on PATH."""
        return subprocess.run(
            list(args),
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`pip ARGS` into this venv; it must succeed."""
        done = self.run(self.root, str(self.python), "-m", "pip", *args)
        if done.returncode != 0:
            raise AssertionError(f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done


def _layer_on(folders: list[str]) -> str:
    """A `.pth` file that adds `folders` after the venv's own site-packages, with their `.pth`s.

    `addsitedir` (not a plain path line) runs the `.pth` files found there too: editable
    installs, nexus's among them, are made of such files.
    """
    return "".join(f"import site; site.addsitedir({folder!r})\n" for folder in folders)


def in_test_environment(distribution: str) -> bool:
    """True when the test environment itself (not a venv) has `distribution` installed."""
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True
