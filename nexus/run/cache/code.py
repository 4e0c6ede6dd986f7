"""The code part of a key: the normalised source of a step's modules and the packages they use.

A step's modules are its plugin's module and every project module it imports, followed
through `import` statements anywhere in a file (also inside functions, also relative ones),
plus the modules of the handlers that read its inputs and write its output. The walk stops
at nexus itself and at installed packages; those count by their distribution's version.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import importlib.util
import io
import json
import os
import sys
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xxhash

from nexus.core.files import write_text_atomic
from nexus.run.cache.hashing import RACY_S

__all__ = ["CodeScan", "normalised_source", "source_hash"]

_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # 3.12+: f-strings are split up
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def normalised_source(text: str) -> str:
    """The file's tokens without comments, blank lines or docstrings, one logical line a line.

    Built from `tokenize`, whose tokens are the same in every Python version (f-strings are
    kept as their source text, which 3.12 would split), unlike `ast.unparse`.
    """
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines: list[list[str]] = [[]]
    depth, fstring_start = 0, (0, 0)
    previous = tokenize.NEWLINE  # the type of the last token that counts
    dropped = False
    for index, token in enumerate(tokens):
        if _FSTRING_START is not None and token.type == _FSTRING_START:
            depth += 1
            fstring_start = token.start if depth == 1 else fstring_start
            continue
        if depth:
            if token.type == _FSTRING_END:
                depth -= 1
                if depth == 0:
                    lines[-1].append(_slice(text, fstring_start, token.end))
                    previous = tokenize.STRING
            continue
        if token.type in _DROPPED:
            continue
        if _is_docstring(tokens, index, previous):
            previous, dropped = tokenize.NEWLINE, True
            continue
        if token.type == tokenize.NEWLINE and dropped:
            dropped = False  # the end of the dropped docstring's statement
            continue
        previous = token.type
        if token.type == tokenize.NEWLINE:
            lines.append([])
        elif token.type == tokenize.INDENT:
            lines[-1].append("<indent>")
        elif token.type == tokenize.DEDENT:
            lines[-1].append("<dedent>")
        else:
            lines[-1].append(token.string)
    return "\n".join(" ".join(line) for line in lines if line)


def _is_docstring(tokens: list[tokenize.TokenInfo], index: int, previous: int) -> bool:
    """A string that is a whole statement: a docstring, or another string without effect."""
    if tokens[index].type != tokenize.STRING:
        return False
    if previous not in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
        return False
    after = next((t for t in tokens[index + 1 :] if t.type not in _DROPPED), None)
    return after is None or after.type in (tokenize.NEWLINE, tokenize.ENDMARKER)


def _slice(text: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    lines = text.splitlines(keepends=True)
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1] : end[1]]
    middle = lines[start[0] : end[0] - 1]
    return lines[start[0] - 1][start[1] :] + "".join(middle) + lines[end[0] - 1][: end[1]]


def source_hash(text: str) -> str:
    """The xxh3_128 of a file's normalised source."""
    return xxhash.xxh3_128_hexdigest(normalised_source(text).encode("utf-8"))


@dataclass
class CodeScan:
    """Finds a step's modules and hashes them; one per run, so each file is read once.

    `root` is the project; `stop` names top-level packages not followed (nexus itself), except
    the package of a handler module given to `add`, whose siblings it imports are followed.
    """

    root: Path
    memo_file: Path | None = None
    stop: frozenset[str] = frozenset({"nexus"})
    _hashes: dict[Path, tuple[str, list[tuple[str, int]]]] = field(default_factory=dict)
    _versions: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    _local_tops: dict[str, bool] = field(default_factory=dict)
    _memo: dict[str, Any] | None = None
    _memo_changed: bool = False

    def memo(self) -> dict[str, Any]:
        """What earlier runs found: files by stat signature, distributions by dist-info folder."""
        if self._memo is None:
            self._memo = {"files": {}, "dists": {}}
            if self.memo_file is not None:
                with contextlib.suppress(OSError, ValueError):
                    found = json.loads(self.memo_file.read_text(encoding="utf-8"))
                    if isinstance(found, dict) and found.get("python") == sys.version:
                        self._memo.update(found)
            self._memo["python"] = sys.version
        return self._memo

    def save(self) -> None:
        """Keep the memo for the next run (temp file and rename)."""
        if self.memo_file is None or not self._memo_changed:
            return
        self.memo_file.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # only a shortcut
            write_text_atomic(self.memo_file, json.dumps(self.memo()))
        self._memo_changed = False

    def closure(self, modules: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """({file shown relative: hash}, {distribution: version}) of `modules` and their imports."""
        files: dict[str, str] = {}
        packages: dict[str, str] = {}
        seen: set[str] = set()
        todo = [(name, _package_of(name)) for name in modules]
        while todo:
            name, follow = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if top not in self.stop and not self._is_local(top):
                found = self._distribution(top)
                if found is not None:
                    packages[found[0]] = found[1]
                continue
            path = _module_file(name)
            if path is None or not self._followed(name, path, follow):
                continue
            digest, imports = self._scan(path, name)
            files[self._shown(path)] = digest
            todo += [(imported, follow) for imported, _ in imports]
            if top not in self.stop:  # importing a.b runs a/__init__.py first
                todo += [(parent, follow) for parent in _parents(name)]
        return dict(sorted(files.items())), dict(sorted(packages.items()))

    def _followed(self, name: str, path: Path, follow: str | None) -> bool:
        top = name.split(".")[0]
        if top in self.stop:
            return follow is not None and (name == follow or name.startswith(follow + "."))
        return self._local(path)

    def _local(self, path: Path) -> bool:
        return path.is_relative_to(self.root) and not _installed(path)

    def _scan(self, path: Path, name: str) -> tuple[str, list[tuple[str, int]]]:
        if path in self._hashes:
            return self._hashes[path]
        info = path.stat()
        signature = [info.st_size, info.st_mtime_ns, name]
        files = self.memo()["files"]
        known = files.get(str(path))
        if known is not None and known[:3] == signature:
            found = (str(known[3]), [(str(n), int(level)) for n, level in known[4]])
        else:
            text = path.read_text(encoding="utf-8")
            imports = _imports(ast.parse(text), name, path.name == "__init__.py")
            found = (source_hash(text), imports)
            if time.time() - info.st_mtime_ns / 1e9 > RACY_S:
                files[str(path)] = [*signature, found[0], found[1]]
                self._memo_changed = True
        self._hashes[path] = found
        return found

    def _shown(self, path: Path) -> str:
        for base in (self.root, *(_package_root(top) for top in self.stop)):
            if base is not None and path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return path.as_posix()

    def _is_local(self, top: str) -> bool:
        """Whether a top-level module or package is the project's own (found, not imported)."""
        if top not in self._local_tops:
            self._local_tops[top] = any(self._local(p) for p in _locations(top))
        return self._local_tops[top]

    def _distribution(self, top: str) -> tuple[str, str] | None:
        """(distribution, version) of an installed top-level module; None if none installs it.

        Remembered with the distribution's metadata folder, which an upgrade replaces.
        """
        if top in self._versions:
            return self._versions[top]
        dists = self.memo()["dists"]
        known = dists.get(top)
        if known is not None and _folder_signature(known[2]) == known[3]:
            self._versions[top] = (known[0], known[1])
            return self._versions[top]
        found = _distribution_version(top)
        self._versions[top] = found
        folder = _metadata_folder(found[0]) if found else None
        if found is not None and folder is not None:
            dists[top] = [*found, folder, _folder_signature(folder)]
            self._memo_changed = True
        return found


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """Absolute names of the modules a file imports (and, for `from x import y`, x.y too)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            if base is None:
                continue
            found.append((base, node.level))
            found += [(f"{base}.{alias.name}", node.level) for alias in node.names]
    return found


def _absolute(name: str | None, level: int, package: str) -> str | None:
    if level == 0:
        return name
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{name}" if name else base


def _module_file(name: str) -> Path | None:
    """The source file of module `name`, if it is a Python file (without importing it anew)."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None) if module is not None else None
    if file is None and module is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            return None
        file = spec.origin if spec is not None else None
    return Path(file).resolve() if file and str(file).endswith(".py") else None


def _locations(top: str) -> list[Path]:
    """Where a top-level module lives: its file, or a namespace package's folders."""
    module = sys.modules.get(top)
    spec = getattr(module, "__spec__", None) if module is not None else None
    if spec is None:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            return []
    if spec is None:
        return []
    places = [spec.origin] if spec.origin and spec.origin.endswith(".py") else []
    places += list(spec.submodule_search_locations or [])
    return [Path(p).resolve() for p in places]


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _package_of(name: str) -> str | None:
    """For a nexus handler module, the package whose modules its walk follows."""
    return name.rpartition(".")[0] or None if name.split(".")[0] == "nexus" else None


def _package_root(top: str) -> Path | None:
    module = sys.modules.get(top)
    file = getattr(module, "__file__", None)
    return Path(file).resolve().parent.parent if file else None


def _installed(path: Path) -> bool:
    return "site-packages" in path.parts or "dist-packages" in path.parts


def _metadata_folder(dist: str) -> str | None:
    try:
        folder = getattr(importlib.metadata.distribution(dist), "_path", None)
    except importlib.metadata.PackageNotFoundError:
        return None
    return str(folder) if folder is not None else None


def _folder_signature(folder: str) -> list[int] | None:
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return [info.st_ino, info.st_mtime_ns]


def _distribution_version(top: str) -> tuple[str, str] | None:
    """(distribution, version) of what installs the top-level module `top`, if anything."""
    try:
        return top, importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        pass
    # PIL (Pillow), yaml (PyYAML): the distributions' top_level.txt, then their file lists (1 s)
    for dist in importlib.metadata.distributions():
        if top in (dist.read_text("top_level.txt") or "").split():
            return str(dist.metadata["Name"]), str(dist.version)
    for dist in importlib.metadata.packages_distributions().get(top) or []:
        try:
            return dist, importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None
