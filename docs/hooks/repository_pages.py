"""MkDocs hook: pages of the site whose text lives elsewhere in the repository.

README.md is the front page, REFERENCE.md is written at the project root by
`python -m nexus docs`, and bench/README.md sits beside the benchmarks. The site shows each
as it is, with no copy in docs/ to fall behind. Links between Markdown files are written as
they work when the files are read in the repository (`docs/sweeps.md` from README.md,
`../REFERENCE.md` from a page in docs/); this hook points them at the site's pages, and leaves
any other link alone, so that `mkdocs build --strict` reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

# The site's page -> the repository file whose text it shows.
PAGES = {
    "index.md": "README.md",
    "reference.md": "REFERENCE.md",
    "benchmarks.md": "bench/README.md",
}

# The target of a Markdown link or image, without its #anchor: `](target#anchor)`.
LINK = re.compile(r"(?<=\]\()(?P<target>[^()\s#:]+\.md)(?=[#)\s])")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Adds the pages whose text lives outside docs/."""
    root = _root(config)
    for page, source in PAGES.items():
        text = (root / source).read_text(encoding="utf-8")
        files.append(File.generated(config, page, content=text))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, **_: Any) -> str:
    """Points the page's links to repository files at the site's pages that show them."""
    here = _repository_path(page.file.src_uri, config)
    return LINK.sub(lambda m: _site_link(m["target"], here, page.file.src_uri, config), markdown)


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when one of the files outside docs/ changes, too."""
    for source in PAGES.values():
        server.watch(str(_root(config) / source))
    return server


def _site_link(target: str, here: str, page: str, config: MkDocsConfig) -> str:
    """`target`, written relative to repository file `here`, as a link from site page `page`."""
    wanted = posixpath.normpath(posixpath.join(posixpath.dirname(here), target))
    docs = _docs_folder(config) + "/"
    sources = {source: site_page for site_page, source in PAGES.items()}
    if wanted in sources:
        site_page = sources[wanted]
    elif wanted.startswith(docs):
        site_page = wanted.removeprefix(docs)
    else:
        return target  # not a page of the site: strict mode names it
    return posixpath.relpath(site_page, posixpath.dirname(page) or ".")


def _repository_path(src_uri: str, config: MkDocsConfig) -> str:
    """Where the text of the site's page `src_uri` lives, relative to the project root."""
    return PAGES.get(src_uri) or f"{_docs_folder(config)}/{src_uri}"


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _docs_folder(config: MkDocsConfig) -> str:
    return Path(config.docs_dir).resolve().relative_to(_root(config)).as_posix()
