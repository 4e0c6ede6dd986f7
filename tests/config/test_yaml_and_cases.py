"""The YAML a user writes: safe, strict, with `file:line:col` errors; the case file's schema."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nexus.core.yamlio import load_yaml
from nexus.errors import ProjectError

if TYPE_CHECKING:
    from conftest import ProjectDir

INDENT_FIX = "check the indentation and the brackets around that place"
BRACKET_FIX = "a '[' or '{' is not closed"
DUPLICATE_FIX = "each key may appear once in a mapping: remove or rename one of them"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "where", "problem", "fix"),
    [
        pytest.param(
            "a: 1\nb: 2\na: 3\n",
            "3:1",
            "found duplicate key 'a'",
            DUPLICATE_FIX,
            id="duplicate-key",
        ),
        pytest.param(
            "io:\n  x: 1\n  y: 2\n  x: 3\n",
            "4:3",
            "found duplicate key 'x'",
            DUPLICATE_FIX,
            id="duplicate-nested-key",
        ),
        pytest.param(
            "io_mapping:\n  a: {path: a.json}\n b: {path: b.json}\n",
            "3:2",
            "expected <block end>, but found '<block mapping start>'",
            INDENT_FIX,
            id="bad-indentation",
        ),
        pytest.param(
            "base: &b {x: 1}\nc:\n  <<: *b\n  y: 1\n  y: 2\n",
            "5:3",
            "found duplicate key 'y'",
            DUPLICATE_FIX,
            id="duplicate-next-to-a-merge",
        ),
        pytest.param(
            "a:\n\tb: 1\n",
            "2:1",
            "found character '\\t' that cannot start any token",
            INDENT_FIX,
            id="tab-indentation",
        ),
        pytest.param(
            "steps: [Maker, User\npipeline: {}\n",
            "2:9",
            "expected ',' or ']', but got ':'",
            BRACKET_FIX,
            id="unclosed-bracket",
        ),
        pytest.param(
            "io_mapping: {a: 1\nsteps: [x]\n",
            "2:6",
            "expected ',' or '}', but got ':'",
            BRACKET_FIX,
            id="unclosed-brace",
        ),
        pytest.param(
            "a: 'abc\nb: 1\n",
            "3:1",
            "found unexpected end of stream",
            INDENT_FIX,
            id="unclosed-quote",
        ),
        pytest.param(
            "? [a, b]\n: 1\n", "1:3", "found unhashable key", INDENT_FIX, id="unhashable-key"
        ),
    ],
)
def test_malformed_yaml_names_file_line_and_column(
    tmp_path: Path, text: str, where: str, problem: str, fix: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ProjectError) as caught:
        load_yaml(path, "cases/x/case.yaml")

    assert caught.value.message == f"invalid YAML at cases/x/case.yaml:{where}: {problem}"
    assert caught.value.details == [fix]


@pytest.mark.parametrize(
    "tag",
    [
        pytest.param("!!python/object/apply:os.system", id="apply"),
        pytest.param("!!python/object/new:os.system", id="new"),
    ],
)
def test_a_code_tag_is_refused_and_nothing_runs(tmp_path: Path, tag: str) -> None:
    pwned = tmp_path / "pwned"
    path = write(tmp_path, f"pipeline:\n  x: {tag} ['touch {pwned}']\n")

    with pytest.raises(ProjectError) as caught:
        load_yaml(path, "cases/x/case.yaml")

    assert f"invalid YAML at cases/x/case.yaml:2:6: tag 'tag:yaml.org,2002:{tag[2:]}'" in str(
        caught.value
    )
    assert "is not allowed (it would run code)" in str(caught.value)
    assert "nexus reads plain YAML only: remove the '!!' tag" in str(caught.value)
    assert not pwned.exists()


def test_merge_keys_are_plain_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        base: &base {path: a.csv, handler: csv}
        io_mapping:
          a: {<<: *base}
          b:
            <<: *base
            path: b.csv
        """,
    )

    data = load_yaml(path)

    assert data["io_mapping"] == {
        "a": {"path": "a.csv", "handler": "csv"},
        "b": {"path": "b.csv", "handler": "csv"},
    }


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as caught:
        load_yaml(tmp_path / "nope.yaml", "conf/nope.yaml")

    assert str(caught.value) == "file not found: conf/nope.yaml"


def test_a_code_tag_in_a_case_runs_nothing(project: ProjectDir) -> None:
    pwned = project.root / "pwned"
    project.case(
        "c1",
        f"""
        io_mapping: {{made: {{path: made.json}}, used: {{path: used.json}}}}
        steps: [Maker, User]
        pipeline:
          factor: !!python/object/apply:os.system ["touch {pwned}"]
        """,
    )

    err = project.fail("case=c1")

    assert "invalid YAML at cases/c1/case.yaml:4:11: tag" in err
    assert "python/object/apply:os.system' is not allowed (it would run code)" in err
    assert not pwned.exists()


@pytest.mark.parametrize(
    ("relative", "text", "expected"),
    [
        pytest.param(
            "cases/c1/case.yaml",
            "steps: [Maker]\nio_mapping: {made: {path: m.json}}\nsteps: [User]\n",
            "invalid YAML at cases/c1/case.yaml:3:1: found duplicate key 'steps'",
            id="case-duplicate-key",
        ),
        pytest.param(
            "conf/config.yaml",
            "defaults: [nexus, {plugin_defaults: '${case}'}, _self_, {case: '???'}]\n"
            "pipeline: {}\ntracking: {enabled: false}\npipeline: {factor: 2}\n",
            "invalid YAML at conf/config.yaml:4:1: found duplicate key 'pipeline'",
            id="conf-duplicate-key",
        ),
        pytest.param(
            "cases/c1/case.yaml",
            "steps: [Maker, User\n",
            "invalid YAML at cases/c1/case.yaml:2:1: expected ',' or ']', but got '<stream end>'",
            id="case-unclosed-bracket",
        ),
    ],
)
def test_malformed_project_yaml_is_reported_by_the_cli(
    project: ProjectDir, relative: str, text: str, expected: str
) -> None:
    project.write(relative, text)

    err = project.fail("case=c1")

    assert f"nexus: {expected}\n" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "io_mapping: {made: {path: m.json}}\nsteps: [Maker]\noutputs: {x: 1}\n",
            ["1 problem in cases/c1/case.yaml", "outputs: unknown key"],
            id="unknown-top-level-key",
        ),
        pytest.param(
            "io_mapping: {made: {path: m.json}}\nstepz: [Maker]\n",
            ["2 problems in cases/c1/case.yaml", "steps: Field required", "stepz: unknown key"],
            id="misspelt-steps",
        ),
        pytest.param(
            "_target_: os.system\nio_mapping: {made: {path: m.json}}\nsteps: [Maker]\n",
            ["cases/c1/case.yaml asks to build objects from code: _target_"],
            id="target-at-top-level",
        ),
        pytest.param(
            "io_mapping: {made: {path: m.json, _target_: os.getcwd}}\nsteps: [Maker]\n",
            ["cases/c1/case.yaml asks to build objects from code: io_mapping.made._target_"],
            id="target-in-io-mapping",
        ),
        pytest.param(
            "io_mapping: {made: {path: ''}}\nsteps: []\n",
            [
                "2 problems in cases/c1/case.yaml",
                "io_mapping.made.path: String should have at least 1 character",
                "steps: List should have at least 1 item",
            ],
            id="empty-path-and-no-steps",
        ),
        pytest.param(
            "io_mapping: {made: {path: m.json}}\nsteps: [{plugin: Maker, confg: {count: 1}}]\n",
            ["1 problem in cases/c1/case.yaml", "steps.0.confg: unknown key"],
            id="misspelt-step-config",
        ),
        pytest.param(
            "",
            ["case 'c1' has no content: cases/c1/case.yaml is missing or empty"],
            id="empty-file",
        ),
        pytest.param(
            "- Maker\n- User\n",
            ["cases/c1/case.yaml must be a mapping of keys, got list"],
            id="not-a-mapping",
        ),
    ],
)
def test_the_case_schema_is_checked(project: ProjectDir, text: str, expected: list[str]) -> None:
    project.case("c1", text)

    err = project.fail("case=c1")

    for part in expected:
        assert part in err
    assert "StepEntry" not in err


def test_target_anywhere_in_a_case_is_refused_and_nothing_is_built(project: ProjectDir) -> None:
    trap = project.root / "instantiated"
    project.write(
        "plugins/trap.py",
        f"""
        from pathlib import Path


        class Trap:
            \"\"\"Proves an instantiation: creating one writes a file.\"\"\"

            def __init__(self, *args, **kwargs):
                Path({str(trap)!r}).write_text("instantiated")
        """,
    )
    project.case(
        "c1",
        """
        io_mapping: {made: {path: made.json}, used: {path: used.json}}
        steps: [Maker, {plugin: User, config: {_target_: plugins.trap.Trap}}]
        pipeline:
          _target_: plugins.trap.Trap
        """,
    )

    err = project.fail("case=c1")

    assert (
        "cases/c1/case.yaml asks to build objects from code: steps.1.config._target_, "
        "pipeline._target_"
    ) in err
    assert "nexus never instantiates '_target_' from a case file: remove it" in err
    assert not trap.exists()
