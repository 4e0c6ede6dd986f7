"""No module of nexus keeps mutable state: what a command changes lives in its objects.

A module-level list, dict or set that code mutates, or a name rebound through `global`,
would carry one command's state into the next in the same process (tests, nexus called as
a library). Constants are fine; so is a ContextVar, which is the state's own holder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nexus

PACKAGE = Path(nexus.__file__).parent
MUTATORS = {
    "add",
    "append",
    "clear",
    "discard",
    "extend",
    "insert",
    "pop",
    "popitem",
    "remove",
    "setdefault",
    "update",
}
CONTAINERS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


def module_state(tree: ast.Module) -> list[str]:
    """The module-level names that `tree` mutates or rebinds through `global`."""
    containers = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        value = getattr(node, "value", None)
        made = isinstance(value, CONTAINERS) or (
            isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("dict", "list", "set")
        )
        containers.update(t.id for t in targets if isinstance(t, ast.Name) and made)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr in MUTATORS and isinstance(owner, ast.Name):
                found.update({owner.id} & containers)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            for target in getattr(node, "targets", None) or [node.target]:
                for part in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(part, ast.Subscript) and isinstance(part.value, ast.Name):
                        found.update({part.value.id} & containers)
    return sorted(found)


def test_no_module_of_nexus_keeps_mutable_state() -> None:
    found = {
        str(path.relative_to(PACKAGE)): names
        for path in sorted(PACKAGE.rglob("*.py"))
        if (names := module_state(ast.parse(path.read_text(encoding="utf-8"))))
    }

    assert found == {}


def test_the_scan_finds_each_kind_of_module_state() -> None:
    source = """
_runs = {}
_names: list[str] = []
_seen = set()
_current = None
CONSTANT = {"a": 1}

def remember(key, value):
    _runs[key] = value
    _names.append(key)
    _seen.add(key)

def use(value):
    global _current
    _current = value

def read():
    return CONSTANT["a"]
"""
    assert module_state(ast.parse(source)) == ["_current", "_names", "_runs", "_seen"]
