"""The cache key: normalised code, the import closure, canonical parameters, the golden key."""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from nexus.core.hub import DataEntry, DataHub
from nexus.handlers import JsonHandler
from nexus.run.cache.code import CodeScan, normalised_source
from nexus.run.cache.key import Uncacheable, canonical, canonical_params, key_of
from nexus.run.cache.session import CacheSession
from nexus.run.plan import Step

RESOURCES = Path(__file__).parents[1] / "resources"

SOURCE = '''\
"""A module docstring."""

import os


def area(width, height):
    """A docstring."""
    # a comment
    return width * height  # a trailing comment
'''


def test_comments_blank_lines_and_docstrings_do_not_count() -> None:
    edited = textwrap.dedent('''\
        """Another docstring, longer,
        over two lines."""
        import os
        # a new comment


        def area(width, height):
            return width * height
        ''')
    assert normalised_source(edited) == normalised_source(SOURCE)


@pytest.mark.parametrize(
    "edit",
    [
        SOURCE.replace("width * height", "width + height"),
        SOURCE.replace("import os", "import sys"),
        SOURCE + "\nLIMIT = 3\n",
        SOURCE.replace('    """A docstring."""\n', '    """A docstring."""\n    x = "text"\n'),
    ],
    ids=["operator", "import", "new-line", "string-assigned"],
)
def test_a_real_change_counts(edit: str) -> None:
    assert normalised_source(edit) != normalised_source(SOURCE)


def test_the_closure_follows_relative_and_in_function_imports_and_stops_at_nexus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "steps_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from .shared import helper\n")
    (package / "shared.py").write_text("def helper():\n    return 1\n")
    (package / "late.py").write_text("import numpy\nVALUE = 2\n")
    (package / "unused.py").write_text("X = 1\n")
    (package / "step.py").write_text(
        "import nexus.errors\nfrom . import shared\n\n"
        "def run():\n    from .late import VALUE\n    return VALUE\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("steps_pkg.step")
    try:
        files, packages = CodeScan(tmp_path).closure(["steps_pkg.step"])
    finally:
        for name in [n for n in sys.modules if n.startswith("steps_pkg")]:
            del sys.modules[name]
    assert sorted(files) == [
        "steps_pkg/__init__.py",
        "steps_pkg/late.py",
        "steps_pkg/shared.py",
        "steps_pkg/step.py",
    ]
    assert packages == {"numpy": importlib.metadata.version("numpy")}


def test_a_handler_brings_its_own_package_modules() -> None:
    files, packages = CodeScan(RESOURCES).closure(["nexus.handlers.frames"])
    assert {"nexus/handlers/frames.py", "nexus/handlers/png.py", "nexus/handlers/ffmpeg.py"} <= set(
        files
    )
    assert not any(f.startswith("nexus/") and "/handlers/" not in f for f in files)
    assert "numpy" in packages


def test_floats_are_kept_by_repr_and_unknown_types_are_refused() -> None:
    assert canonical({"b": 0.1, "a": [1, None, "x"]}) == {
        "a": [1, None, "x"],
        "b": {"float": "0.1"},
    }
    assert canonical(0.1 + 0.2) != canonical(0.3)
    with pytest.raises(Uncacheable, match="object"):
        canonical(object())
    with pytest.raises(Uncacheable, match="keys"):
        canonical({1: "a"})


@pytest.fixture
def golden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The golden step, imported from a copy of tests/resources/cache_golden."""
    root = tmp_path / "project"
    shutil.copytree(RESOURCES / "cache_golden", root / "cache_golden")
    monkeypatch.syspath_prepend(str(root))
    module = importlib.import_module("cache_golden.golden_step")
    yield root, module.golden.__nexus_plugin__
    for name in [n for n in sys.modules if n.startswith("cache_golden")]:
        del sys.modules[name]


def _record(root: Path, spec, params: dict) -> dict:
    json_handler = JsonHandler.__nexus_handler__  # type: ignore[attr-defined]
    run_dir = root / "outputs" / "run"
    entries = {
        "numbers": DataEntry("numbers", root / "cache_golden" / "numbers.json", json_handler),
        "result": DataEntry("result", run_dir / "result.json", json_handler, {}, "Golden"),
    }
    cache = CacheSession(root / "outputs", root, run_dir, {"result": "Golden"})
    return cache.record(Step("Golden", spec, params), DataHub(entries, run_dir))


def test_the_golden_key_is_pinned(golden) -> None:
    """An accidental change to the key's recipe (or its hash) changes this key: on purpose only."""
    root, spec = golden
    record = _record(root, spec, {"factor": 2.5, "workers": 8})
    assert record["packages"] == {"pydantic": importlib.metadata.version("pydantic")}
    assert record["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert set(record["code"]) == {
        "cache_golden/__init__.py",
        "cache_golden/golden_helper.py",
        "cache_golden/golden_step.py",
        "nexus/handlers/json_handler.py",
    }
    # Installed versions and nexus's own handler code vary between set-ups: fixed here.
    record.update(packages={"pydantic": "2.0"}, python="3.11")
    record["code"]["nexus/handlers/json_handler.py"] = "fixed"
    assert record == {
        "schema": "nexus-cache/1",
        "hash": "xxh3_128",
        "plugin": "Golden",
        "code": {
            "cache_golden/__init__.py": "99aa06d3014798d86001c324468d497f",
            "cache_golden/golden_helper.py": "f0fa57b25575d149df4989047b76649c",
            "cache_golden/golden_step.py": "1a4d68a1709a07b9a132d06eb8ac8003",
            "nexus/handlers/json_handler.py": "fixed",
        },
        "packages": {"pydantic": "2.0"},
        "python": "3.11",
        "params": {"factor": {"float": "2.5"}, "label": "x"},
        "inputs": {
            "numbers": {
                "hash": "6a9d10b0fcbacfea04e6b12ef4f17507",
                "handler": "json",
                "handler_args": {},
            }
        },
        "sink": {"handler": "json", "handler_args": {}},
    }
    assert key_of(record) == "088db4db439e29044e7e50477a2e980a"


def test_a_parameter_marked_as_not_affecting_output_is_left_out(golden) -> None:
    root, spec = golden
    assert "workers" not in canonical_params(spec, {"workers": 2})
    one = _record(root, spec, {"workers": 1})
    assert key_of(one) == key_of(_record(root, spec, {"workers": 16}))
    assert key_of(one) != key_of(_record(root, spec, {"factor": 2.5000001}))


def test_an_int_in_a_float_field_keys_as_the_float(golden) -> None:
    root, spec = golden
    assert key_of(_record(root, spec, {"factor": 3})) == key_of(
        _record(root, spec, {"factor": 3.0})
    )


def test_a_comment_in_the_helper_keeps_the_key_and_a_change_does_not(golden) -> None:
    root, spec = golden
    before = key_of(_record(root, spec, {}))
    helper = root / "cache_golden" / "golden_helper.py"
    helper.write_text(helper.read_text() + "# a note\n")
    assert key_of(_record(root, spec, {})) == before
    helper.write_text(helper.read_text().replace("value * factor", "factor * value"))
    assert key_of(_record(root, spec, {})) != before
