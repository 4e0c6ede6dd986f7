"""Hydra's ConfigStore nodes: the framework's settings, each case, and its steps' defaults.

`conf/config.yaml` composes them, lowest first: `nexus` < `plugin_defaults/<case>` <
`conf/config.yaml` itself < `case/<case>` < the command line.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from nexus.config.cases import CaseFile, load_case
from nexus.core.project import Project
from nexus.core.registry import Registry
from nexus.errors import NexusError
from nexus.run.rundirs import register_resolvers

__all__ = ["plugin_defaults", "register_configs"]

log = logging.getLogger("nexus.config.compose")


def register_configs(
    project: Project, registry: Registry, selected: set[str]
) -> dict[str, CaseFile]:
    """Store the framework node and one `case/<name>` and `plugin_defaults/<name>` per case.

    Returns the cases that could be read, by name.

    A case that is not `selected` and cannot be read is stored empty: its problems are
    reported when somebody selects it, not on every run of another case.
    """
    register_resolvers()
    read: dict[str, CaseFile] = {}
    store = ConfigStore.instance()
    store.store(name="nexus", node=framework_node(project), package="_global_")
    for name in project.case_names():
        try:
            case = load_case(project, name)
            defaults = plugin_defaults(name, case, registry)
            read[name] = case
        except NexusError:
            if name in selected:
                raise
            log.debug("case '%s' cannot be read; not selected, so skipped", name)
            case, defaults = None, {}
        node = case.to_tree(name) if case else {}
        store.store(group="case", name=name, node=node, package="_global_")
        store.store(
            group="plugin_defaults", name=name, node={"pipeline": defaults}, package="_global_"
        )
    return read


def framework_node(project: Project) -> dict[str, Any]:
    """The package's `nexus.yaml`, with this project's root filled in."""
    text = resources.files("nexus.conf").joinpath("nexus.yaml").read_text(encoding="utf-8")
    node = yaml.safe_load(text)
    node["paths"]["root"] = str(project.root)
    return node


def plugin_defaults(name: str, case: CaseFile, registry: Registry) -> dict[str, Any]:
    """The default of every parameter of the case's steps, in one flat namespace.

    Two steps that share a parameter name share its value; the first step's default is used.
    A parameter without a default is left out: validation reports it as missing.
    """
    defaults: dict[str, Any] = {}
    for step in case.step_names():
        spec = registry.plugin_named(step, f"in the steps of case '{name}'")
        for param, info in spec.parameters.items():
            if param in defaults or info.is_required():
                continue
            defaults[param] = _plain(info.get_default(call_default_factory=True))
    return defaults


def _plain(value: Any) -> Any:
    """A value OmegaConf can hold (enums by value, tuples as lists, models as dicts)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "value") and type(value).__module__ != "builtins":
        return value.value
    try:
        OmegaConf.create({"v": value})
    except Exception:
        return str(value)
    return value
