"""A plugin whose config declares two outputs."""

from typing import Annotated

from pydantic import BaseModel

from nexus import DataSink, plugin


class TwoOutputs(BaseModel):
    left: Annotated[dict | None, DataSink(name="left")] = None
    right: Annotated[dict | None, DataSink(name="right")] = None


@plugin(name="Split", default_config=TwoOutputs)  # <- reported
def split(config: TwoOutputs) -> dict:
    """Cannot return two things."""
    return {}
