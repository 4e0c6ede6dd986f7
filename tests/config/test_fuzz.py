"""Property-based: random case files and overrides give a clean error or a safe plan, nothing else.

Each example goes through the real path of a run up to its first step: the case file is read,
Hydra composes the config with the overrides, the parameters are validated and the plan is
built. The only acceptable failures are a NexusError or a Hydra error the CLI explains in one
message; a plan that succeeds never reads or writes a path outside the allowed roots.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexus.app.task import prepare
from nexus.cli.main import _explain_hydra_error
from nexus.config.compose import register_configs
from nexus.core.discovery import discover
from nexus.core.project import Project
from nexus.errors import NexusError
from nexus.tracking.session import Session

TOY = Path(__file__).parents[1] / "e2e" / "toy_project"

names = st.sampled_from(["numbers", "doubled", "summary", "other", "x y", ""])
paths = st.one_of(
    st.sampled_from(
        [
            "raw/numbers.csv",
            "../x.csv",
            "../../etc/passwd",
            "/etc/passwd",
            "a/../../b.csv",
            "out.parquet",
            "",
            ".",
            "..",
            "sub/./x.json",
            "~/x",
            "doubled.parquet",
            "/tmp/abs.json",
            "raw/../../../up.csv",
            "../../../../outside.csv",
            "../../../outside/out.json",
        ]
    ),
    st.text(max_size=12),
)
handlers = st.sampled_from(["csv", "parquet", "json", "frames", "mp4", "nope", None, ""])
scalars = st.one_of(
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
locations = st.one_of(
    st.fixed_dictionaries(
        {"path": paths},
        optional={
            "handler": handlers,
            "handler_args": st.dictionaries(st.sampled_from(["sep", "x"]), scalars, max_size=1),
        },
    ),
    scalars,
)
steps = st.lists(
    st.one_of(
        st.sampled_from(["Double", "Sum", "Nope", "Count Frames"]),
        st.fixed_dictionaries(
            {"plugin": st.sampled_from(["Double", "Sum", "Nope"])},
            optional={
                "config": st.dictionaries(
                    st.sampled_from(["factor", "nope", "return_kind"]), scalars, max_size=2
                )
            },
        ),
    ),
    max_size=4,
)
case_files = st.fixed_dictionaries(
    {"io_mapping": st.dictionaries(names, locations, max_size=4), "steps": steps},
    optional={
        "pipeline": st.dictionaries(
            st.sampled_from(["factor", "fail_on", "nope", "_target_"]), scalars, max_size=3
        ),
        "description": scalars,
        "generator": st.sampled_from(["demo", "nope"]),
        "extra": scalars,
    },
)
# Near-valid cases: the toy case with its output paths, handlers, order and values varied,
# so that many examples get through validation and their plans' paths are checked.
near_valid_cases = st.fixed_dictionaries(
    {
        "io_mapping": st.fixed_dictionaries(
            {
                "numbers": st.fixed_dictionaries(
                    {
                        "path": st.sampled_from(
                            [
                                "raw/numbers.csv",
                                "./raw/numbers.csv",
                                "raw/../raw/numbers.csv",
                                "ABSOLUTE",
                            ]
                        )
                    }
                ),
                "doubled": st.fixed_dictionaries({"path": paths}, optional={"handler": handlers}),
                "summary": st.fixed_dictionaries({"path": paths, "handler": st.just("json")}),
            }
        ),
        "steps": st.sampled_from(
            [["Double", "Sum"], ["Sum", "Double"], ["Double"], ["Double", {"plugin": "Sum"}]]
        ),
        "pipeline": st.dictionaries(
            st.just("factor"), st.one_of(st.floats(0.1, 10), st.integers(1, 3), scalars), max_size=1
        ),
    }
)
override_values = st.one_of(
    st.sampled_from(["1", "-1", "abc", "null", "[1,2]", "'x y'", "${oops}", "1e400", ""]),
    st.text(max_size=8),
)
overrides = st.lists(
    st.one_of(
        st.builds(
            lambda k, v: f"{k}={v}",
            st.sampled_from(
                [
                    "pipeline.factor",
                    "pipeline.nope",
                    "only",
                    "inputs_from",
                    "+pipeline.extra",
                    "case.io_mapping.numbers.path",
                    "paths.root",
                ]
            ),
            override_values,
        ),
        st.text(max_size=15),
    ),
    max_size=3,
)


PLANS_BUILT: list[Any] = []


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("fuzz") / "toy"
    shutil.copytree(TOY, root)
    shutil.copytree(root / "cases" / "toy" / "raw", root / "cases" / "fuzz" / "raw")
    saved_path = list(sys.path)
    project = Project(root)
    session = Session(project, discover(project))
    yield session
    sys.path[:] = saved_path
    for name in [n for n in sys.modules if n == "plugins" or n.startswith("plugins.")]:
        del sys.modules[name]
    GlobalHydra.instance().clear()


def _plan_or_error(session: Session, case_text: str, extra: list[str]) -> Any:
    project = session.project
    (project.case_dir("fuzz") / "case.yaml").write_text(case_text, encoding="utf-8")
    GlobalHydra.instance().clear()
    try:
        register_configs(project, session.registry, {"fuzz"})
        with initialize_config_dir(str(project.conf_dir), version_base="1.3"):
            cfg = compose("config", overrides=["case=fuzz", *extra], return_hydra_config=True)
        run_dir = project.outputs_dir / "fuzz" / "run"
        return prepare(cfg, session, extra, run_dir), run_dir
    except NexusError as exc:
        return exc
    except Exception as exc:
        outcome = exc
    if _explain_hydra_error(outcome) is None:  # the CLI would not know how to say it
        raise AssertionError(
            f"{type(outcome).__name__} is neither a NexusError nor explained"
        ) from outcome
    return outcome


def _assert_safe(session: Session, outcome: Any) -> None:
    if isinstance(outcome, BaseException):
        return
    PLANS_BUILT.append(outcome)
    plan, run_dir = outcome
    root = session.project.root.resolve()
    for entry in plan.entries.values():
        resolved = entry.path.resolve()
        if entry.producer is not None:
            assert resolved.is_relative_to(run_dir.resolve()), entry
        else:  # an input: inside the project, unless given as an absolute path
            given_absolute = Path(str(entry.path)).is_absolute() and not str(entry.path).startswith(
                str(root)
            )
            assert given_absolute or resolved.is_relative_to(root), entry


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=case_files, extra=overrides)
def test_random_case_files_and_overrides(toy: Session, case: dict, extra: list[str]) -> None:
    _assert_safe(toy, _plan_or_error(toy, yaml.safe_dump(case, allow_unicode=True), extra))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=near_valid_cases, extra=st.one_of(st.just([]), st.just([]), overrides))
def test_near_valid_cases_and_overrides(toy: Session, case: dict, extra: list[str]) -> None:
    text = yaml.safe_dump(case, allow_unicode=True).replace(
        "ABSOLUTE", str(toy.project.case_dir("toy") / "raw" / "numbers.csv")
    )
    _assert_safe(toy, _plan_or_error(toy, text, extra))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=120))
def test_random_text_as_a_case_file(toy: Session, text: str) -> None:
    _assert_safe(toy, _plan_or_error(toy, text, []))


def test_some_random_cases_made_a_plan() -> None:
    # Guards the fuzzing itself: examples that never reach a plan would check nothing.
    assert len(PLANS_BUILT) >= 10
