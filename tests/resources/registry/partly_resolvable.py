"""A plugin with one annotation that does not resolve at run time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from nexus import plugin

if TYPE_CHECKING:
    from collections import OrderedDict  # only for the type checker


class Settings(BaseModel):
    window: int = 3


@plugin(name="Partly Resolvable", default_config=Settings)
def partly_resolvable(settings: Settings, order: OrderedDict[str, int] | None = None) -> int:
    """`settings` is still injected by its type."""
    return settings.window
