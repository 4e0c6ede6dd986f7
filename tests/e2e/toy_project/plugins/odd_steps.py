"""Steps for the reliability tests: one reads frames, one tries to write through a symlink."""

import os
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from nexus import DataSink, DataSource, RunContext, plugin
from nexus.handlers import FrameSequence


class CountConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    pictures: Annotated[FrameSequence, DataSource(name="pictures")]
    count: Annotated[dict | None, DataSink(name="count")] = None


@plugin(name="Count Frames", default_config=CountConfig)
def count_frames(config: CountConfig) -> dict:
    """Counts the frames of a directory."""
    return {"frames": len(config.pictures)}


class SneakyConfig(BaseModel):
    escaped: Annotated[dict | None, DataSink(name="escaped")] = None
    outside: str = Field("", description="a folder outside the run directory")


@plugin(name="Sneaky", default_config=SneakyConfig)
def sneaky(config: SneakyConfig, context: RunContext) -> dict:
    """Links a folder of the run directory to a place outside it, then returns data to save."""
    os.symlink(config.outside, Path(context.run_dir) / "escape")
    return {"written": "outside?"}
