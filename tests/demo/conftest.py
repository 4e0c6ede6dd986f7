"""The demo's modules as these tests imported them, in `sys.modules` while each test runs.

Other tests run projects of their own, whose `plugins` package replaces this one's in
`sys.modules`. The render workers pickle their function by its module's name, which must then
find the very module the test imported.
"""

from __future__ import annotations

import sys

import pytest

import plugins.demo.canvas
import plugins.demo.compensator
import plugins.demo.renderer
import plugins.demo.video
import plugins.demo.workers  # noqa: F401  (imported to be kept below)

DEMO_MODULES = {
    name: module
    for name, module in sys.modules.items()
    if name == "plugins" or name.startswith("plugins.demo")
}


@pytest.fixture(autouse=True)
def demo_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the demo's modules back where a pickled reference looks them up."""
    for name, module in DEMO_MODULES.items():
        monkeypatch.setitem(sys.modules, name, module)
