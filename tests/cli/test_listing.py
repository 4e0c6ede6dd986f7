"""`python -m nexus list`: every plugin, handler, generator and case, one line each."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nexus.cli.main import main

if TYPE_CHECKING:
    from conftest import ProjectDir

REPO = Path(__file__).resolve().parents[2]

CATALOG = [
    "plugin     Counter      plugins/text_steps.py    tokens, stop_words -> counts",
    "plugin     Tokenizer    plugins/text_steps.py    raw_text -> tokens",
    "handler    csv          nexus (built in)         .csv",
    "handler    frames       nexus (built in)         (no extension)",
    "handler    json         nexus (built in)         .json",
    "handler    mp4          nexus (built in)         .mp4",
    "handler    parquet      nexus (built in)         .parquet .pq",
    "handler    text         plugins/formats/text.py  .txt .text",
    "generator  sample_text  plugins/formats/text.py",
    "case       words        cases/words/case.yaml    Tokenizer -> Counter",
]

EXTRAS = """
    from typing import Annotated

    from pydantic import BaseModel

    from nexus import DataSink, generator, handler, plugin


    class DeepConfig(BaseModel):
        out: Annotated[str | None, DataSink(name="deep_text")] = None


    @plugin(name="deep step", default_config=DeepConfig)
    def deep(config: DeepConfig) -> str:
        \"\"\"Sorted among the others whatever its case.\"\"\"
        return "deep"


    @handler
    class Lines:
        name = "lines"
        extensions = (".lines",)

        def load(self, path, **args):
            return path.read_text().splitlines()

        def save(self, obj, path, **args):
            path.write_text("\\n".join(obj))


    @generator(name="numbers")
    def make_numbers(case_dir):
        return []
"""


def listed(project: ProjectDir, *args: str) -> list[str]:
    """The lines `python -m nexus list ARGS` prints; it must succeed quietly."""
    code = main(["list", *args])
    out, err = project.capsys.readouterr()
    assert code == 0, err
    assert err == ""
    return out.splitlines()


@pytest.fixture
def catalog(make_project: Callable[[str], ProjectDir]) -> ProjectDir:
    """tests/resources/projects/catalog: two plugins, a handler, a generator, a case."""
    return make_project("catalog")


def test_lists_everything_with_where_it_comes_from(catalog: ProjectDir) -> None:
    assert listed(catalog) == CATALOG


def test_plugins_in_subfolders_generators_and_installed_packages(
    catalog: ProjectDir, installed_dist: Path
) -> None:
    catalog.write("plugins/more/deep.py", EXTRAS)
    catalog.case("zz", "io_mapping: {deep_text: {path: d.txt}}\nsteps: [deep step]\n")

    lines = listed(catalog)

    assert lines == [
        "plugin     Counter      plugins/text_steps.py                  "
        "tokens, stop_words -> counts",
        "plugin     deep step    plugins/more/deep.py                   - -> deep_text",
        "plugin     Shout        entry point 'shout' of nexus-ext-demo  text -> shouted",
        "plugin     Tokenizer    plugins/text_steps.py                  raw_text -> tokens",
        "handler    csv          nexus (built in)                       .csv",
        "handler    frames       nexus (built in)                       (no extension)",
        "handler    json         nexus (built in)                       .json",
        "handler    lines        plugins/more/deep.py                   .lines",
        "handler    mp4          nexus (built in)                       .mp4",
        "handler    parquet      nexus (built in)                       .parquet .pq",
        "handler    text         plugins/formats/text.py                .txt .text",
        "handler    upper        entry point 'upper' of nexus-ext-demo  .up",
        "generator  numbers      plugins/more/deep.py",
        "generator  sample_text  plugins/formats/text.py",
        "case       words        cases/words/case.yaml                  Tokenizer -> Counter",
        "case       zz           cases/zz/case.yaml                     deep step",
    ]
    assert str(catalog.root) not in "\n".join(lines)


def test_a_module_listed_in_conf(catalog: ProjectDir) -> None:
    catalog.write("projlib/extra.py", EXTRAS)
    conf = catalog.root / "conf/config.yaml"
    conf.write_text(conf.read_text() + "plugin_modules: [projlib.extra]\n")

    assert listed(catalog, "plugins") == [
        "plugin  Counter    plugins/text_steps.py  tokens, stop_words -> counts",
        "plugin  deep step  module projlib.extra   - -> deep_text",
        "plugin  Tokenizer  plugins/text_steps.py  raw_text -> tokens",
    ]


def squeezed(lines: list[str]) -> list[str]:
    return [" ".join(line.split()) for line in lines]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["cases"], CATALOG[9:]),
        (["handlers"], CATALOG[2:8]),
        (["cases", "handlers", "generators"], CATALOG[2:]),
        (["plugins", "plugins"], CATALOG[:2]),
    ],
    ids=["cases", "handlers", "two-kinds-in-list-order", "a-kind-twice"],
)
def test_one_kind(catalog: ProjectDir, args: list[str], expected: list[str]) -> None:
    assert squeezed(listed(catalog, *args)) == squeezed(expected)


def test_a_broken_case_is_listed_with_its_problem(catalog: ProjectDir) -> None:
    catalog.case("broken", "steps: [Counter]\nextra_key: 1\n")

    lines = listed(catalog, "cases")

    assert lines == [
        "case  broken  cases/broken/case.yaml  "
        "(cannot be read: 1 problem in cases/broken/case.yaml)",
        "case  words   cases/words/case.yaml   Tokenizer -> Counter",
    ]


@pytest.mark.parametrize(
    ("args", "files", "expected"),
    [
        (
            ["plugin"],
            {},
            "nexus: list cannot show 'plugin'\n"
            "  did you mean 'plugins'?\n"
            "  it shows: plugins, handlers, generators, cases\n",
        ),
        (
            ["everything"],
            {},
            "nexus: list cannot show 'everything'\n"
            "  it shows: plugins, handlers, generators, cases\n",
        ),
        (
            [],
            {"plugins/bad.py": "import not_a_module_xyz\n"},
            "nexus: cannot import plugin module plugins/bad.py: ModuleNotFoundError: "
            "No module named 'not_a_module_xyz'\n"
            "  at {root}/plugins/bad.py:1: import not_a_module_xyz\n"
            "  fix the module, or move it out of plugins/\n",
        ),
    ],
    ids=["close-kind", "unknown-kind", "plugin-module-that-fails"],
)
def test_mistakes(
    catalog: ProjectDir, args: list[str], files: dict[str, str], expected: str
) -> None:
    for path, text in files.items():
        catalog.write(path, text)

    err = catalog.fail("list", *args)

    assert err == expected.replace("{root}", str(catalog.root))
    assert catalog.capsys.readouterr().out == ""


def test_outside_a_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    code = main(["list"])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith(f"nexus: no nexus project here: no conf/config.yaml in {tmp_path}")


def test_this_repository_in_a_fresh_process(tmp_path: Path) -> None:
    # The project files of this repository, without outputs: the lines the README quotes.
    for folder in ("conf", "plugins"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__py*"))
    (tmp_path / "cases/demo").mkdir(parents=True)
    shutil.copy(REPO / "cases/demo/case.yaml", tmp_path / "cases/demo/case.yaml")

    done = subprocess.run(
        [sys.executable, "-m", "nexus", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (done.returncode, done.stderr) == (0, "")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "```text\n" + done.stdout + "```\n" in readme, "README.md quotes this output"
    assert done.stdout.splitlines() == [
        "plugin     Frame Renderer       plugins/demo/renderer.py        "
        "predicted_states, latent_measurements, video_manifest, ground_truth -> rendered_frames",
        "plugin     Latency Compensator  plugins/demo/compensator.py     "
        "latent_measurements, ground_truth -> predicted_states",
        "plugin     Video Creator        plugins/demo/video.py           "
        "rendered_frames, video_manifest -> video",
        "handler    csv                  nexus (built in)                .csv",
        "handler    frames               nexus (built in)                (no extension)",
        "handler    json                 nexus (built in)                .json",
        "handler    mp4                  nexus (built in)                .mp4",
        "handler    parquet              nexus (built in)                .parquet .pq",
        "generator  demo                 plugins/demo/data_generator.py",
        "case       demo                 cases/demo/case.yaml            "
        "Latency Compensator -> Frame Renderer -> Video Creator",
    ]


def test_the_usage_names_the_subcommands(catalog: ProjectDir) -> None:
    assert main(["--help"]) == 0

    out = catalog.capsys.readouterr().out
    assert "subcommands (bare words, before any KEY=VALUE):\n" in out
    for command in (
        "python -m nexus list [KIND]",
        "python -m nexus docs [--check]",
        "python -m nexus new-case NAME [--from CASE]",
        "python -m nexus generate-data [case=NAME]",
    ):
        assert f"\n  {command}  " in out
