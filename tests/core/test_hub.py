"""The DataHub: lazy loads, in-memory hand-off, atomic saves that stay inside the run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from nexus import DataHub
from nexus.core.hub import DataEntry
from nexus.core.registry import Registry
from nexus.errors import DataError


@pytest.fixture
def handlers(load_module: Callable[[str], ModuleType], registry: Registry) -> Registry:
    """A fresh registry with the handlers of `hub/handlers.py` (fresh instances per test)."""
    registry.add_from(load_module("hub/handlers.py"), "hub tests")
    return registry


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    return folder


def entry(registry: Registry, name: str, path: Path, handler: str, **kw: Any) -> DataEntry:
    return DataEntry(name=name, path=path, handler=registry.handlers[handler], **kw)


def files_in(folder: Path) -> list[str]:
    """Every file and directory below `folder`, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_load_waits_for_the_first_get(handlers: Registry, tmp_path: Path) -> None:
    source = tmp_path / "in.cjson"
    source.write_text('{"a": 1}', encoding="utf-8")
    counting = handlers.handlers["counting"].instance

    hub = DataHub({"doc": entry(handlers, "doc", source, "counting")})
    assert counting.loads == []
    assert "doc" in hub
    first = hub.get("doc")

    assert first == {"a": 1}
    assert counting.loads == [source]


def test_a_second_get_returns_the_same_object(handlers: Registry, tmp_path: Path) -> None:
    source = tmp_path / "in.cjson"
    source.write_text('{"a": 1}', encoding="utf-8")
    hub = DataHub({"doc": entry(handlers, "doc", source, "counting")})

    first, second = hub.get("doc"), hub.get("doc")

    assert second is first
    assert len(handlers.handlers["counting"].instance.loads) == 1


def test_a_saved_object_is_handed_on_in_memory(handlers: Registry, run_dir: Path) -> None:
    hub = DataHub({"out": entry(handlers, "out", run_dir / "out.cjson", "counting")}, run_dir)
    data = {"values": [1, 2, 3]}

    path = hub.save("out", data)

    assert path == run_dir / "out.cjson"
    assert json.loads(path.read_text(encoding="utf-8")) == data
    assert hub.get("out") is data
    assert handlers.handlers["counting"].instance.loads == []
    assert files_in(run_dir) == ["out.cjson"]  # no partial sibling left behind


def test_the_handler_writes_a_hidden_sibling_with_the_whole_extension(
    handlers: Registry, run_dir: Path
) -> None:
    final = run_dir / "sub" / "archive.tar.cjson"
    hub = DataHub({"out": entry(handlers, "out", final, "counting")}, run_dir)

    hub.save("out", [1])

    (written,) = handlers.handlers["counting"].instance.saves
    assert written.parent == final.parent
    assert written.name.startswith(".")
    assert written.name.endswith(".archive.tar.cjson")
    assert files_in(run_dir) == ["sub", "sub/archive.tar.cjson"]


def test_a_missing_input_is_reported_when_first_read(handlers: Registry, tmp_path: Path) -> None:
    missing = tmp_path / "absent.cjson"
    hub = DataHub({"doc": entry(handlers, "doc", missing, "counting", declared="case.yaml")})

    with pytest.raises(DataError) as caught:
        hub.get("doc")

    message = str(caught.value)
    assert f"input 'doc' not found: {missing}" in message
    assert "(declared in case.yaml)" in message


def test_an_unknown_name_lists_the_known_ones(handlers: Registry, tmp_path: Path) -> None:
    hub = DataHub({"doc": entry(handlers, "doc", tmp_path / "x.cjson", "counting")})

    with pytest.raises(DataError) as caught:
        hub.get("dco")

    assert "no data named 'dco' in this run" in str(caught.value)
    assert "known names: doc" in str(caught.value)


@pytest.mark.parametrize(
    ("handler", "target", "cause"),
    [
        pytest.param("half", "out.half", "disk went away half-way", id="file"),
        pytest.param("half_dir", "parts", "the second part failed", id="directory"),
    ],
)
def test_a_save_that_fails_half_way_leaves_nothing(
    handlers: Registry, run_dir: Path, handler: str, target: str, cause: str
) -> None:
    hub = DataHub({"out": entry(handlers, "out", run_dir / target, handler)}, run_dir)

    with pytest.raises(DataError) as caught:
        hub.save("out", {"a": "b" * 100})

    assert handlers.handlers[handler].instance.saves  # it did start writing
    assert cause in str(caught.value)
    assert f"cannot save 'out' with handler '{handler}'" in str(caught.value)
    assert files_in(run_dir) == []  # neither the final file nor a partial one
    with pytest.raises(DataError):  # not handed on to the next step either
        hub.get("out")


def test_a_failed_save_keeps_an_earlier_complete_file(handlers: Registry, run_dir: Path) -> None:
    final = run_dir / "out.half"
    final.write_text('{"complete": true}', encoding="utf-8")
    hub = DataHub({"out": entry(handlers, "out", final, "half")}, run_dir)

    with pytest.raises(DataError):
        hub.save("out", {"a": 1})

    assert final.read_text(encoding="utf-8") == '{"complete": true}'
    assert files_in(run_dir) == ["out.half"]


def test_a_save_through_a_symlink_out_of_the_run_is_refused(
    handlers: Registry, tmp_path: Path, run_dir: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (run_dir / "link").symlink_to(outside, target_is_directory=True)
    target = run_dir / "link" / "out.cjson"
    hub = DataHub(
        {"out": entry(handlers, "out", target, "counting", declared="cases/c/case.yaml")}, run_dir
    )

    with pytest.raises(DataError) as caught:
        hub.save("out", {"a": 1})

    message = str(caught.value)
    assert f"refusing to write 'out' outside the run directory: {target}" in message
    assert "declared in cases/c/case.yaml" in message
    assert list(outside.iterdir()) == []
    assert handlers.handlers["counting"].instance.saves == []


def test_an_input_of_the_case_is_never_written(
    handlers: Registry, tmp_path: Path, run_dir: Path
) -> None:
    source = tmp_path / "case" / "in.cjson"
    source.parent.mkdir()
    source.write_text('{"original": true}', encoding="utf-8")
    hub = DataHub({"doc": entry(handlers, "doc", source, "counting")}, run_dir)

    with pytest.raises(DataError) as caught:
        hub.save("doc", {"changed": True})

    assert "refusing to write 'doc' outside the run directory" in str(caught.value)
    assert source.read_text(encoding="utf-8") == '{"original": true}'


def test_a_handler_that_writes_nothing_is_an_error(handlers: Registry, run_dir: Path) -> None:
    hub = DataHub({"out": entry(handlers, "out", run_dir / "out.silent", "silent")}, run_dir)

    with pytest.raises(DataError) as caught:
        hub.save("out", {"a": 1})

    assert "handler 'silent' wrote nothing for out.silent" in str(caught.value)
    assert "its save() must write to the path it is given" in str(caught.value)
    assert files_in(run_dir) == []


def test_a_save_of_the_wrong_type_names_the_step(handlers: Registry, run_dir: Path) -> None:
    hub = DataHub(
        {"out": entry(handlers, "out", run_dir / "out.cjson", "counting", producer="Maker")},
        run_dir,
    )

    with pytest.raises(DataError) as caught:
        hub.save("out", object())

    message = str(caught.value)
    assert "cannot save 'out' with handler 'counting'" in message
    assert "the step 'Maker' returned object" in message
    assert files_in(run_dir) == []


def _numbers() -> Iterator[int]:
    yield from range(3)


@pytest.mark.parametrize(
    ("handler", "obj"),
    [
        pytest.param("lines", _numbers, id="iterator"),
        pytest.param("reloading", lambda: [0, 1, 2], id="reload_after_save"),
    ],
)
def test_a_spent_object_is_read_back_after_save(
    handlers: Registry, run_dir: Path, handler: str, obj: Callable[[], Any]
) -> None:
    target = run_dir / f"out.{handler}"
    hub = DataHub({"out": entry(handlers, "out", target, handler)}, run_dir)

    hub.save("out", obj())
    assert handlers.handlers[handler].instance.loads == []  # read back lazily
    again = hub.get("out")

    assert again == ["0", "1", "2"]
    assert handlers.handlers[handler].instance.loads == [target]
