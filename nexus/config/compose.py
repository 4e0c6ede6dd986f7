"""Hydra's ConfigStore nodes: the framework's settings, each case, and its steps' defaults.

`conf/config.yaml` composes them, lowest first: `nexus` < `plugin_defaults/<case>` <
`conf/config.yaml` itself < `case/<case>` < the command line.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from nexus.config.cases import CaseFile, load_case, step_key
from nexus.config.resolvers import register_resolvers
from nexus.config.wiring import resolve_wiring
from nexus.core.project import Project
from nexus.core.registry import Registry

__all__ = ["plugin_defaults", "register_configs", "step_defaults"]


def register_configs(
    project: Project, registry: Registry, selected: set[str]
) -> dict[str, CaseFile]:
    """Store the framework node and one `case/<name>` and `plugin_defaults/<name>` per case.

    Only the `selected` cases are read (a broken one raises its ProjectError); they are
    returned by name. The others are stored empty, unread: Hydra still lists them as the
    choices of `case`, and a file that is huge, broken or hostile costs nothing until
    somebody selects it.
    """
    register_resolvers()
    read: dict[str, CaseFile] = {}
    store = ConfigStore.instance()
    store.store(name="nexus", node=framework_node(project), package="_global_")
    for name in project.case_names():
        node: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        if name in selected:
            case = read[name] = load_case(project, name)
            node = case.to_tree(name, resolve_wiring(case, registry))
            defaults = {
                "pipeline": plugin_defaults(name, case, registry),
                "steps": step_defaults(case, registry),
            }
        store.store(group="case", name=name, node=node, package="_global_")
        store.store(group="plugin_defaults", name=name, node=defaults, package="_global_")
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
    for entry in case.entries():
        spec = registry.plugin_named(entry.plugin, f"in the steps of case '{name}'")
        for param, info in spec.parameters.items():
            if param in defaults or info.is_required():
                continue
            defaults[param] = _plain(info.get_default(call_default_factory=True))
    return defaults


def step_defaults(case: CaseFile, registry: Registry) -> dict[str, Any]:
    """`steps.<key>`: each step switched on, each of its parameters fed by `pipeline.<param>`.

    So `steps.close_up.zoom_factor=20` sets one step's value without a `+`, and
    `pipeline.zoom_factor` still feeds every step whose own value is not set.
    """
    return {
        step_key(entry.step_name): {
            "enabled": True,
            **{
                p: f"${{pipeline.{p}}}"
                for p in registry.plugins[entry.plugin].parameters
                if p != "enabled"  # the switch; such a parameter is set by pipeline.enabled
            },
        }
        for entry in case.entries()
    }


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
