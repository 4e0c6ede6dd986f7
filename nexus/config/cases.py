"""The case file (`cases/<name>/case.yaml`): its schema, and its place in the config tree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nexus.core.project import Project
from nexus.core.text import slug
from nexus.core.yamlio import load_yaml
from nexus.errors import ProjectError, problems

__all__ = ["CaseFile", "DataLocation", "Objective", "StepEntry", "load_case", "step_key"]

CASE_FILE = "case.yaml"


class DataLocation(BaseModel):
    """Where a logical name lives and which handler reads or writes it."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, pattern=r"^[^\x00]*$")  # no NUL: no OS takes it in a path
    handler: str | None = None
    handler_args: dict[str, Any] = Field(default_factory=dict)


class StepEntry(BaseModel):
    """A step given as a mapping: its name, parameters, wiring, and whether it runs."""

    model_config = ConfigDict(extra="forbid")

    plugin: str = Field(min_length=1)
    name: str | None = Field(None, min_length=1)  # default: the plugin's name
    config: dict[str, Any] = Field(default_factory=dict)  # wins over pipeline.*
    inputs: dict[str, str] = Field(default_factory=dict)  # plugin-side name -> case-side name
    outputs: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True

    @property
    def step_name(self) -> str:
        return self.name or self.plugin


class Objective(BaseModel):
    """What a sweep of the case looks for: the metric a step logs, and which way is better."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(min_length=1)
    direction: Literal["minimize", "maximize"] = "minimize"


class CaseFile(BaseModel):
    """What a user writes in `case.yaml`."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    io_mapping: dict[str, DataLocation] = Field(default_factory=dict)
    steps: list[str | StepEntry] = Field(min_length=1)
    pipeline: dict[str, Any] = Field(default_factory=dict)
    generator: str | None = None
    objective: Objective | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> CaseFile:
        names = self.step_names()
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"two steps are named {', '.join(repr(n) for n in twice)}: give each "
                "its own name (name: ...)"
            )
        keys = [step_key(n) for n in names]
        clash = sorted({n for n, k in zip(names, keys, strict=True) if keys.count(k) > 1})
        if clash:
            raise ValueError(
                f"the steps {', '.join(repr(n) for n in clash)} share the command-line key "
                f"'steps.{step_key(clash[0])}': rename one"
            )
        return self

    def entries(self) -> list[StepEntry]:
        """Every step as a StepEntry (a bare plugin name is one with defaults)."""
        return [StepEntry(plugin=s) if isinstance(s, str) else s for s in self.steps]

    def step_names(self) -> list[str]:
        return [s.step_name for s in self.entries()]

    def step_config(self) -> dict[str, dict[str, Any]]:
        """Each step's own parameters, by step name."""
        return {s.step_name: s.config for s in self.entries() if s.config}

    def to_tree(self, name: str, wiring: dict[str, Any] | None = None) -> dict[str, Any]:
        """The case's part of the config tree: `case.*`, `steps.<key>` and `pipeline`.

        `wiring` is what each step reads and writes, resolved (see nexus.config.wiring); without
        it, the tree holds the renames the case file gives.
        """
        entries = self.entries()
        return {
            "case": {
                "name": name,
                "description": self.description,
                "io_mapping": {k: v.model_dump() for k, v in self.io_mapping.items()},
                "steps": self.step_names(),
                "wiring": wiring
                or {
                    s.step_name: {"plugin": s.plugin, "inputs": s.inputs, "outputs": s.outputs}
                    for s in entries
                },
                "generator": self.generator,
            },
            "steps": {
                step_key(s.step_name): {**s.config, **({} if s.enabled else {"enabled": False})}
                for s in entries
            },
            "pipeline": dict(self.pipeline),
            # Over conf/'s objective, like pipeline: values; absent, conf/'s stands.
            **({"objective": self.objective.model_dump()} if self.objective else {}),
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
            [
                *lines,
                "allowed keys: description, io_mapping, steps, pipeline, generator, objective",
            ],
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
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


def step_key(name: str) -> str:
    """The key of a step under `steps.` in the config tree: `Frame Renderer` -> `frame_renderer`.

    Non-ASCII letters become `_` too: Hydra's grammar takes only ASCII in a key.

    Hydra's override grammar takes no spaces in a key, so a step is set on the command line
    as `steps.frame_renderer.zoom_factor=8`.
    """
    key = slug(name.lower()) or "step"
    return f"_{key}" if key[0].isdigit() else key  # a key may not start with a digit


def case_file(project: Project, name: str) -> Path:
    """The path of a case's YAML file."""
    return project.case_dir(name) / CASE_FILE
