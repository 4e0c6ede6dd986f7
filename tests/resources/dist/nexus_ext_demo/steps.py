"""A plugin offered through the `nexus.plugins` entry point group."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from nexus import DataSink, DataSource, plugin


class ShoutConfig(BaseModel):
    text: Annotated[str, DataSource(name="text")]
    shouted: Annotated[str | None, DataSink(name="shouted")] = None
    marks: int = 1


@plugin(name="Shout", default_config=ShoutConfig)
def shout(config: ShoutConfig) -> str:
    """Appends exclamation marks."""
    return config.text.strip() + "!" * config.marks
