"""The demo is the model plugin: it uses nexus's public API only, as a user's plugin would."""

from __future__ import annotations

import ast
from pathlib import Path

import nexus

DEMO = Path(__file__).parents[2] / "plugins" / "demo"


def nexus_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of each `import nexus...` and `from nexus... import name` in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nexus":
            found += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.split(".")[0] == "nexus"]
    return found


def test_the_demo_imports_only_public_names_of_the_nexus_package() -> None:
    imports = {(p.name, *i) for p in sorted(DEMO.glob("*.py")) for i in nexus_imports(p)}

    assert imports  # the demo does use nexus
    assert {(file, module) for file, module, _ in imports if module != "nexus"} == set()
    assert {name for _, _, name in imports} <= set(nexus.__all__)
