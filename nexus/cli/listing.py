"""`python -m nexus list`: the project's plugins, handlers, generators and cases, one a line."""

from __future__ import annotations

from typing import TypeVar

from nexus.config.cases import case_file, load_case
from nexus.config.catalog import Catalog, load_catalog
from nexus.core.registry import PluginSpec
from nexus.errors import NexusError, ProjectError, did_you_mean

__all__ = ["KINDS", "command", "list_lines"]

T = TypeVar("T")

#: What `list` can show, in its order; `list KIND` shows one kind.
KINDS = ("plugins", "handlers", "generators", "cases")

USAGE = """\
usage: python -m nexus list [plugins|handlers|generators|cases]

One line each: the kind, the name, where it comes from (a file of the project, nexus itself,
a module named in conf/, or an installed package's entry point) and what it reads and writes
(plugins), its extensions (handlers) or its steps (cases)."""


def command(args: list[str]) -> int:
    """`list [KIND]`: print the lines; exit code 0."""
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    kinds = _kinds(args)
    print("\n".join(list_lines(load_catalog(), kinds)))
    return 0


def list_lines(catalog: Catalog, kinds: tuple[str, ...] = KINDS) -> list[str]:
    """Aligned lines `kind  name  where  detail`, sorted by name within each kind."""
    rows: list[tuple[str, str, str, str]] = []
    for kind in kinds:
        rows += getattr(_Rows(catalog), kind)()
    if not rows:
        return [f"no {' or '.join(kinds)} in this project"]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)).rstrip()
        for row in rows
    ]


class _Rows:
    """The rows of each kind."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.registry = catalog.registry

    def plugins(self) -> list[tuple[str, str, str, str]]:
        return [
            ("plugin", spec.name, self.catalog.origin(spec.origin), _flow(spec))
            for spec in _sorted(self.registry.plugins)
        ]

    def handlers(self) -> list[tuple[str, str, str, str]]:
        return [
            (
                "handler",
                spec.name,
                self.catalog.origin(spec.origin),
                " ".join(spec.extensions) or "(no extension)",
            )
            for spec in _sorted(self.registry.handlers)
        ]

    def generators(self) -> list[tuple[str, str, str, str]]:
        return [
            ("generator", spec.name, self.catalog.origin(spec.origin), "")
            for spec in _sorted(self.registry.generators)
        ]

    def cases(self) -> list[tuple[str, str, str, str]]:
        project = self.catalog.project
        rows = []
        for name in project.case_names():
            try:
                detail = " -> ".join(load_case(project, name).step_names())
            except NexusError as exc:  # one broken case must not hide the others
                detail = f"(cannot be read: {exc.message})"
            rows.append(("case", name, project.relative(case_file(project, name)), detail))
        return rows


def _sorted(specs: dict[str, T]) -> list[T]:
    return [specs[name] for name in sorted(specs, key=lambda n: (n.lower(), n))]


def _flow(spec: PluginSpec) -> str:
    """`reads -> writes` by logical name."""
    return f"{', '.join(spec.consumes) or '-'} -> {spec.produces or '-'}"


def _kinds(args: list[str]) -> tuple[str, ...]:
    if not args:
        return KINDS
    unknown = [a for a in args if a not in KINDS]
    if unknown:
        raise ProjectError(
            f"list cannot show '{unknown[0]}'",
            [did_you_mean(unknown[0], KINDS), f"it shows: {', '.join(KINDS)}"],
        )
    return tuple(k for k in KINDS if k in args)
