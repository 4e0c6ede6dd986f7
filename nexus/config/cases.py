"""The case file (`cases/<name>/case.yaml`): its schema, and its place in the config tree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nexus.core.project import Project
from nexus.core.yamlio import load_yaml
from nexus.errors import ProjectError, problems

__all__ = ["CaseFile", "DataLocation", "StepEntry", "load_case"]

CASE_FILE = "case.yaml"


class DataLocation(BaseModel):
    """Where a logical name lives and which handler reads or writes it."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, pattern=r"^[^\x00]*$")  # no NUL: no OS takes it in a path
    handler: str | None = None
    handler_args: dict[str, Any] = Field(default_factory=dict)


class StepEntry(BaseModel):
    """A step given with its own parameters, which win over `pipeline`."""

    model_config = ConfigDict(extra="forbid")

    plugin: str = Field(min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)


class CaseFile(BaseModel):
    """What a user writes in `case.yaml`."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    io_mapping: dict[str, DataLocation] = Field(default_factory=dict)
    steps: list[str | StepEntry] = Field(min_length=1)
    pipeline: dict[str, Any] = Field(default_factory=dict)
    generator: str | None = None

    def step_names(self) -> list[str]:
        return [s if isinstance(s, str) else s.plugin for s in self.steps]

    def step_config(self) -> dict[str, dict[str, Any]]:
        return {s.plugin: s.config for s in self.steps if isinstance(s, StepEntry) and s.config}

    def to_tree(self, name: str) -> dict[str, Any]:
        """The case's part of the config tree: `case.*` and its `pipeline` values."""
        return {
            "case": {
                "name": name,
                "description": self.description,
                "io_mapping": {k: v.model_dump() for k, v in self.io_mapping.items()},
                "steps": self.step_names(),
                "step_config": self.step_config(),
                "generator": self.generator,
            },
            "pipeline": dict(self.pipeline),
        }


def load_case(project: Project, name: str) -> CaseFile:
    """Read and check `cases/<name>/case.yaml`; every problem is reported with its key."""
    path = project.case_dir(name) / CASE_FILE
    shown = project.relative(path)
    raw = load_yaml(path, shown) if path.is_file() else None
    if raw is None:
        raise ProjectError(
            f"case '{name}' has no content: {shown} is missing or empty",
            ["a case needs at least 'steps:' and 'io_mapping:'"],
        )
    if not isinstance(raw, dict):
        raise ProjectError(f"{shown} must be a mapping of keys, got {type(raw).__name__}")
    targets = list(_target_keys(raw))
    if targets:
        raise ProjectError(
            f"{shown} asks to build objects from code: {', '.join(targets)}",
            [
                "nexus never instantiates '_target_' from a case file: remove it",
                "a step's behaviour comes from its plugin; its values from pipeline:",
            ],
        )
    try:
        return CaseFile.model_validate(raw)
    except ValidationError as exc:
        errors = [err for err in exc.errors() if not _other_step_form(err)]
        lines = list(dict.fromkeys(_describe(err) for err in errors))
        raise ProjectError(
            f"{problems(len(lines), 'problem')} in {shown}",
            [*lines, "allowed keys: description, io_mapping, steps, pipeline, generator"],
        ) from None


def _target_keys(node: Any, at: str = "") -> Iterator[str]:
    """Where a `_target_` key sits in the parsed YAML (Hydra's way to call code)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{at}.{key}" if at else str(key)
            if key == "_target_":
                yield where
            yield from _target_keys(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _target_keys(value, f"{at}.{index}")


def _other_step_form(err: Any) -> bool:
    # A step is `str | StepEntry`: a mapping fails as a str too; that error says nothing.
    loc = err["loc"]
    return loc[:1] == ("steps",) and loc[-1:] == ("str",) and isinstance(err["input"], dict)


def _describe(err: Any) -> str:
    parts = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    if parts[:1] == ["steps"] and parts[2:3] in (["str"], ["StepEntry"]):
        del parts[2]  # pydantic names the member of `str | StepEntry`; the user wrote neither
    loc = ".".join(parts)
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def case_file(project: Project, name: str) -> Path:
    """The path of a case's YAML file."""
    return project.case_dir(name) / CASE_FILE
