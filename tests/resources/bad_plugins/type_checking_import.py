"""A plugin that asks for the hub by type, but imports the type only for the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from nexus import plugin

if TYPE_CHECKING:
    from nexus import DataHub


class Settings(BaseModel):
    window: int = 3


@plugin(name="Typed Hub", default_config=Settings)  # <- reported
def typed_hub(config: Settings, data: DataHub) -> None:
    """`DataHub` does not exist at run time here."""
