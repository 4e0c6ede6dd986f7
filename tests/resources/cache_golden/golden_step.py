"""A fixed step for the golden-key test: its bytes are part of the pinned key."""

from typing import Annotated

from pydantic import BaseModel, Field

from nexus import DataSink, DataSource, plugin

from .golden_helper import scale


class GoldenConfig(BaseModel):
    table: Annotated[dict, DataSource(name="numbers")]
    result: Annotated[dict | None, DataSink(name="result")] = None
    factor: float = Field(2.5, description="what each number is multiplied by")
    label: str = Field("x", description="a name")
    workers: int = Field(4, json_schema_extra={"affects_output": False})


@plugin(name="Golden", default_config=GoldenConfig)
def golden(config: GoldenConfig) -> dict:
    """Scales the numbers."""
    return {k: scale(v, config.factor) for k, v in config.table.items()}
