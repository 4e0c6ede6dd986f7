"""nexus.testing: run_plugin validates and injects as a run does; nexus_project runs cases."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from nexus.core.registry import Registry
from nexus.errors import ConfigError, NexusError, PluginError, StepError
from nexus.testing import CONFIG_YAML, TempProject, plugin_spec, run_plugin

if TYPE_CHECKING:
    from conftest import ProjectDir


@pytest.fixture
def steps(load_module: Callable[[str], ModuleType]) -> ModuleType:
    """tests/resources/testing_helpers/steps.py, imported afresh."""
    return load_module("testing_helpers/steps.py")


# -- run_plugin -----------------------------------------------------------------------------


def test_returns_the_output_the_metrics_and_the_validated_config(
    steps: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    words = ["a", "bb", "bb", "ccc", "the"]

    with caplog.at_level(logging.INFO, logger="nexus.step"):
        run = run_plugin(
            steps.count,
            inputs={"words": words, "stop_words": ["the"]},
            params={"min_length": "2", "label": "test"},
            run_dir=tmp_path,
        )

    assert run.output == {"bb": 2, "ccc": 1}
    assert run.metrics.values == {"distinct": 2.0}
    assert run.config.min_length == 2  # validated by the model: "2" became 2
    assert run.config.words == words
    assert run.hub.get("word_counts") == {"bb": 2, "ccc": 1}  # kept for a next step
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("nexus.step.counter", "counted 2 distinct words for test")
    ]
    assert run.context.run_dir == tmp_path
    assert run.context.step == "Counter"
    assert (tmp_path / "ran_in.txt").read_text() == "Counter\n"


def test_defaults_come_from_the_model_and_a_run_directory_is_made(steps: ModuleType) -> None:
    run = run_plugin(steps.count, {"words": ["x", "yy"]})

    assert run.output == {"x": 1, "yy": 1}
    assert (run.config.min_length, run.config.label, run.config.stop_words) == (1, "counts", None)
    assert run.context.run_dir.is_dir()
    assert (run.context.run_dir / "ran_in.txt").is_file()


def test_a_plugin_that_asks_for_the_hub_reads_any_name(steps: ModuleType) -> None:
    run = run_plugin(steps.read_from_hub, {"numbers": [1, 2, 3.5]})

    assert run.output == 6.5


def test_the_plugins_own_exception_reaches_the_test_unchanged(steps: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"^over the limit of 2\.5$"):
        run_plugin(steps.raise_value_error, params={"limit": 2.5})


def test_a_plugin_is_found_by_its_spec_or_its_name_in_a_registry(steps: ModuleType) -> None:
    registry = Registry()
    registry.add_from(steps, "testing_helpers/steps.py")
    spec = plugin_spec(steps.count)

    by_spec = run_plugin(spec, {"words": ["a"]})
    by_name = run_plugin("Counter", {"words": ["a"]}, registry=registry)

    assert by_spec.output == by_name.output == {"a": 1}
    assert registry.plugins["Counter"].func is steps.count


def test_a_name_is_looked_up_in_the_project_around_the_current_directory(
    project: ProjectDir,
) -> None:
    run = run_plugin("Maker", params={"factor": 2.5, "count": 7})

    assert run.output == {"factor": 2.5, "count": 7, "ratio": 0.5}


def test_a_parameter_fails_as_it_fails_in_a_run(project: ProjectDir) -> None:
    err = project.fail("case=c1", "pipeline.factor=11")
    with pytest.raises(ConfigError) as caught:
        run_plugin("Maker", params={"factor": 11})

    same = "Input should be less than or equal to 10 [step 'Maker']"
    assert f"pipeline.factor = 11 (from the command line): {same}" in err
    assert f"pipeline.factor = 11 (from run_plugin params): {same}" in str(caught.value)


COUNTER_INPUTS = "words (required), stop_words"


@pytest.mark.parametrize(
    ("plugin", "inputs", "params", "error", "expected"),
    [
        (
            "count",
            {"words": []},
            {"min_length": 0, "lable": "x", "label": ["not", "text"]},
            ConfigError,
            [
                "3 invalid parameters for plugin 'Counter'",
                "  pipeline.lable = 'x' (from run_plugin params): no step of this case has a "
                "parameter 'lable'; did you mean 'label'?",
                "  pipeline.min_length = 0 (from run_plugin params): Input should be greater "
                "than or equal to 1 [step 'Counter']",
                "  pipeline.label = ['not', 'text'] (from run_plugin params): Input should be "
                "a valid string [step 'Counter']",
                "  fix the params= given to run_plugin()",
            ],
        ),
        (
            "needy",
            {},
            {},
            ConfigError,
            [
                "1 invalid parameter for plugin 'Needy Step'",
                "  pipeline.threshold: Field required [step 'Needy Step', no default in "
                "NeedyConfig]",
                "  fix the params= given to run_plugin()",
            ],
        ),
        (
            "count",
            {"words": []},
            {"label": object()},
            ConfigError,
            [
                "1 parameter of plugin 'Counter' cannot come from a config",
                "  label = object: not a value a config can hold",
                "  parameters are numbers, strings, booleans, lists and mappings of them",
                f"  pass data in inputs=, by logical name: {COUNTER_INPUTS}",
            ],
        ),
        (
            "count",
            {"word": ["a"], "stop_words": [], "counts": {}},
            {},
            ConfigError,
            [
                "2 unknown inputs for plugin 'Counter'",
                "  'word': did you mean 'words'?",
                "  'counts': the plugin writes 'word_counts'; it is its output, not an input",
                f"  its inputs, by logical name: {COUNTER_INPUTS}",
            ],
        ),
        (
            "count",
            {"stop_words": []},
            {},
            ConfigError,
            [
                "the inputs of step 'Counter' do not fit CounterConfig",
                "  words: Field required",
                f"  pass them in inputs=, by logical name: {COUNTER_INPUTS}",
            ],
        ),
        (
            "count",
            {"words": "not a list"},
            {},
            ConfigError,
            [
                "the inputs of step 'Counter' do not fit CounterConfig",
                "  words: Input should be a valid list",
                f"  pass them in inputs=, by logical name: {COUNTER_INPUTS}",
            ],
        ),
        (
            "forget",
            {},
            {},
            StepError,
            [
                "step 'Forgetful' returned nothing, but declares the output 'result'",
                "  defined at {where}",
                "  return the data to save",
            ],
        ),
        (
            "not_a_plugin",
            {},
            {},
            PluginError,
            [
                "run_plugin() needs a plugin, got 'not_a_plugin'",
                "  pass the function marked with @plugin(...), its name, or its PluginSpec",
            ],
        ),
        (
            "Countr",
            {},
            {},
            PluginError,
            [
                "unknown plugin 'Countr' given to run_plugin()",
                "  did you mean 'Counter'?",
                "  known plugins: Counter, Forgetful, Hub Reader, Needy Step, Raiser",
            ],
        ),
    ],
    ids=[
        "bad-parameters",
        "missing-parameter",
        "not-a-config-value",
        "unknown-inputs",
        "missing-input",
        "input-of-the-wrong-type",
        "no-output",
        "not-a-plugin",
        "unknown-name",
    ],
)
def test_mistakes_are_reported_as_in_a_run(
    steps: ModuleType,
    plugin: str,
    inputs: dict[str, Any],
    params: dict[str, Any],
    error: type[NexusError],
    expected: list[str],
) -> None:
    registry = Registry()
    registry.add_from(steps, "testing_helpers/steps.py")
    target = getattr(steps, plugin, plugin)

    with pytest.raises(error) as caught:
        run_plugin(target, inputs, params, registry=registry)

    where = f"{steps.__file__}:{inspect.getsourcelines(steps.forget)[1]}"
    assert str(caught.value).splitlines() == [line.replace("{where}", where) for line in expected]


# -- the nexus_project fixture --------------------------------------------------------------

WORDS_PLUGIN = """
    from typing import Annotated

    from pydantic import BaseModel, Field

    from nexus import DataSink, DataSource, Metrics, plugin


    class LengthsConfig(BaseModel):
        text: Annotated[dict, DataSource(name="text")]
        lengths: Annotated[dict | None, DataSink(name="lengths")] = None
        scale: int = Field(1, ge=1)


    @plugin(name="Lengths", default_config=LengthsConfig)
    def lengths(config: LengthsConfig, metrics: Metrics) -> dict:
        \"\"\"The length of each word, times scale.\"\"\"
        out = {w: len(w) * config.scale for w in config.text["words"]}
        metrics.log("words", len(out))
        return out
"""


def test_the_fixture_is_registered_by_the_pytest11_entry_point(
    pytestconfig: pytest.Config,
) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("nexus")

    assert plugin is not None, "reinstall nexus (pip install -e .) to register its pytest plugin"
    assert plugin.__name__ == "nexus.testing"


def test_the_fixture_makes_an_empty_project(nexus_project: TempProject, tmp_path: Path) -> None:
    root = nexus_project.root

    assert root == tmp_path / "project"
    assert (root / "conf/config.yaml").read_text() == CONFIG_YAML
    assert sorted(p.name for p in root.iterdir()) == ["cases", "conf", "plugins"]
    assert not any((root / "cases").iterdir())
    assert not any((root / "plugins").iterdir())


def test_a_case_runs_in_the_fixtures_project(nexus_project: TempProject) -> None:
    nexus_project.write("plugins/words.py", WORDS_PLUGIN)
    nexus_project.write("cases/w/text.json", '{"words": ["ab", "cde"]}')
    nexus_project.case(
        "w",
        """
        io_mapping:
          text: {path: text.json}
          lengths: {path: lengths.json}
        steps: [Lengths]
        """,
    )

    result = nexus_project.run("case=w", "pipeline.scale=10")

    assert result.code == 0
    assert result.run_dir.parent == nexus_project.root / "outputs/w"
    assert (result.run_dir / "lengths.json").read_text() == '{\n  "ab": 20,\n  "cde": 30\n}\n'
    assert result.manifest["status"] == "completed"
    assert result.manifest["metrics"] == {"words": 2.0}
    assert not (nexus_project.root / "mlflow.db").exists()  # tracking is off by default


def test_a_failing_command_is_returned_or_raised(nexus_project: TempProject) -> None:
    failed = nexus_project.run("case=missing", check=False)

    assert failed.code == 1
    assert failed.stderr.startswith("nexus: unknown case 'missing'")
    assert failed.run_dirs == []
    with pytest.raises(AssertionError, match=r"(?s)exited 1\n.*nexus: unknown case 'missing'"):
        nexus_project.run("case=missing")
    with pytest.raises(AssertionError, match="expected one new run directory, found"):
        _ = failed.run_dir


def test_copy_brings_files_and_folders_into_the_project(
    nexus_project: TempProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine"
    (mine / "plugins/sub").mkdir(parents=True)
    (mine / "plugins/sub/words.py").write_text("# a plugin module\n")
    (mine / "plugins/__pycache__").mkdir()
    (mine / "plugins/__pycache__/words.pyc").write_bytes(b"stale")
    (mine / "notes.txt").write_text("notes\n")
    monkeypatch.chdir(mine)

    folder = nexus_project.copy("plugins")
    file = nexus_project.copy(mine / "notes.txt")
    renamed = nexus_project.copy("notes.txt", "cases/x/readme.txt")

    root = nexus_project.root
    assert folder == root / "plugins"
    assert (root / "plugins/sub/words.py").read_text() == "# a plugin module\n"
    assert not (root / "plugins/__pycache__").exists()
    assert file == root / "notes.txt"
    assert renamed.read_text() == "notes\n"
    assert renamed == root / "cases/x/readme.txt"
