"""The case file (`cases/<name>/case.yaml`): its schema, and its place in the config tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nexus.errors import ProjectError, problems
from nexus.project import Project
from nexus.yamlio import load_yaml

__all__ = ["CaseFile", "DataLocation", "StepEntry", "load_case"]

CASE_FILE = "case.yaml"


class DataLocation(BaseModel):
    """Where a logical name lives and which handler reads or writes it."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
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
    try:
        return CaseFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(err) for err in exc.errors()]
        raise ProjectError(
            f"{problems(len(lines), 'problem')} in {shown}",
            [*lines, "allowed keys: description, io_mapping, steps, pipeline, generator"],
        ) from None


def _describe(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def case_file(project: Project, name: str) -> Path:
    """The path of a case's YAML file."""
    return project.case_dir(name) / CASE_FILE
