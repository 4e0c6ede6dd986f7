"""The tests' throwaway venvs see the environment that runs the tests, even when it is a venv."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from venv_helpers import Venv

TESTS = Path(__file__).parent


def test_a_venv_made_from_inside_a_venv_sees_that_venv_not_the_base_interpreter(
    tmp_path: Path,
) -> None:
    user = Venv.create(tmp_path / "user")  # stands for the user's venv, nexus installed in it
    (user.site_packages / "only_in_user_venv.py").write_text("WHERE = 'user venv'\n")
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from pathlib import Path
        from venv_helpers import Venv

        nested = Venv.create(Path({str(tmp_path / "nested")!r}))
        (nested.site_packages / "only_in_nested.py").write_text("")
        code = "import nexus, only_in_user_venv, only_in_nested; print(only_in_user_venv.WHERE)"
        done = nested.run(nested.root, str(nested.python), "-c", code)
        print(done.stdout, done.stderr)
        """
    )
    done = user.run(tmp_path, str(user.python), "-c", script)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["user", "venv"], done.stdout
    # What the nested venv has stays in it.
    leak = user.run(tmp_path, str(user.python), "-c", "import only_in_nested")
    assert leak.returncode == 1
    assert "No module named 'only_in_nested'" in leak.stderr


def test_pip_installs_into_the_venv_not_the_test_environment(tmp_path: Path) -> None:
    env = Venv.create(tmp_path / "venv")

    done = env.run(tmp_path, str(env.python), "-m", "pip", "--version")

    assert done.returncode == 0, done.stderr
    where = subprocess.run(
        [str(env.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == env.site_packages
