"""YAML that would stall or crash every command is refused, naming the file and the line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nexus.core.yamlio import load_yaml
from nexus.core.yamlshape import MAX_DEPTH
from nexus.errors import ProjectError


def _bomb(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _mapping_bomb(levels: int) -> str:
    lines = ["m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for level in range(1, levels):
        keys = ", ".join(f"k{i}: *m{level - 1}" for i in range(8))
        lines.append(f"m{level}: &m{level} {{{keys}}}")
    return "\n".join(lines) + "\n"


REFUSED = {
    "nine-by-nine-aliases": (_bomb(9, 9), ["its aliases expand to more than 100,000 values"]),
    "seven-levels": (_bomb(7, 9), ["expand to more than", "write the values out"]),
    "wide-and-shallow": (_bomb(3, 400), ["expand to more than"]),
    "mapping-aliases": (_mapping_bomb(7), ["expand to more than"]),
    "block-style-aliases": (
        "a: &a\n"
        + "".join(f"  - {i}\n" for i in range(500))
        + "b: &b\n"
        + "".join("  - *a\n" for _ in range(500)),
        ["expand to more than"],
    ),
    "self-reference": ("a: &a [1, *a]\n", ["alias '*a' refers to the collection it is in"]),
    "deep-flow-lists": ("k: " + "[" * 5000 + "]" * 5000 + "\n", ["nested more than 64 levels"]),
    "deep-flow-mappings": ("k: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", ["nested more"]),
    "deep-block-mappings": (
        "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
        ["nested more than"],
    ),
    "just-past-the-limit": ("k: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), ["nested"]),
}


@pytest.mark.parametrize(("text", "expected"), REFUSED.values(), ids=REFUSED.keys())
def test_yaml_that_expands_or_nests_too_far_is_refused_quickly(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()

    with pytest.raises(ProjectError) as caught:
        load_yaml(path, "cases/x/case.yaml")

    assert time.perf_counter() - started < 5
    message = caught.value.render()
    assert message.startswith("cases/x/case.yaml:")
    for text_part in expected:
        assert text_part in message


ACCEPTED = {
    "merge-keys": ("base: &b {x: 1, y: 2}\nthis: {<<: *b, y: 3}\n", {"x": 1, "y": 3}),
    "a-few-aliases": ("a: &a [1, 2, 3]\nthis: [*a, *a, *a]\n", [[1, 2, 3]] * 3),
    "anchored-scalar": ("a: &a 5\nthis: *a\n", 5),
    "at-the-depth-limit": (
        "this: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n",
        None,
    ),
    "a-long-plain-list-without-aliases": (
        "this: [" + ", ".join(["1"] * 20_000) + "]\n",
        [1] * 20_000,
    ),
}


@pytest.mark.parametrize(("text", "value"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_ordinary_yaml_still_loads(tmp_path: Path, text: str, value: object) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")

    loaded = load_yaml(path)["this"]

    if value is not None:
        assert loaded == value
