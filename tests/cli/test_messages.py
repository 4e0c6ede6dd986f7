"""Small mistakes of a first hour, each answered by one plain message (issue 15, item 8)."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

from nexus.cli.main import main


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["case=c1", "count=3"],
            "nexus: unknown key in an override: 'count'\n"
            "  did you mean 'pipeline.count'? parameters go under pipeline.\n"
            "  see every key with: python -m nexus case=NAME --cfg job\n",
            id="parameter-without-pipeline",
        ),
        pytest.param(
            ["case=c1", "cont=3"],
            "nexus: unknown key in an override: 'cont'\n"
            "  did you mean 'pipeline.count'?\n"
            "  see every key with: python -m nexus case=NAME --cfg job\n",
            id="misspelt-parameter-without-pipeline",
        ),
        pytest.param(
            ["lst"],
            "nexus: unknown command 'lst'\n"
            "  did you mean 'list'?\n"
            "  commands: docs, generate-data, init, list, new-case, status; "
            "or run a case: python -m nexus case=NAME\n",
            id="misspelt-command",
        ),
        pytest.param(
            ["case=c1", "--cfg", "jb"],
            "nexus: --cfg takes job, hydra or all, not 'jb'\n"
            "  did you mean 'job'?\n"
            "  e.g. python -m nexus case=NAME --cfg job\n",
            id="cfg-misspelt",
        ),
        pytest.param(
            ["generate-data", "case=c1"],
            "nexus: case 'c1' has no generator: there is nothing to generate\n"
            "  a case names the @generator that writes its inputs: generator: NAME in its "
            "case.yaml\n"
            "  cases with a generator: (none)\n",
            id="generate-data-without-generator",
        ),
    ],
)
def test_a_small_mistake_gets_one_plain_message(
    project: ProjectDir, args: list[str], expected: str
) -> None:
    assert project.fail(*args) == expected


def test_generate_data_says_when_no_case_has_a_generator(project: ProjectDir) -> None:
    assert main(["generate-data"]) == 0
    out = project.capsys.readouterr().out
    assert out == "no case of this project has a generator: there is nothing to generate\n"


def test_hydra_s_own_usage_names_python_m_nexus(project: ProjectDir) -> None:
    with pytest.raises(SystemExit):
        main(["case=c1", "--bogus"])
    err = project.capsys.readouterr().err
    assert err.startswith("usage: python -m nexus [--help]")
    assert err.splitlines()[1].startswith(" " * 23 + "[")  # wrapped under the first option
    assert "__main__.py" not in err


def test_an_interruption_keeps_its_resume_lines_across_processes() -> None:
    """A joblib or submitit worker's Ctrl-C reaches the console pickled: its lines intact."""
    import pickle

    from nexus.errors import Interrupted

    sent = Interrupted(["log: outputs/toy/x/nexus.log", "to resume from the interrupted step"])

    received = pickle.loads(pickle.dumps(sent))

    assert isinstance(received, KeyboardInterrupt)
    assert received.details == sent.details
