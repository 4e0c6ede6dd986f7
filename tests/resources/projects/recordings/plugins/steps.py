"""A step that passes on the table it reads: what a recording handler gave is what it saves."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict

from nexus import DataSink, DataSource, plugin


class CopyConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    samples: Annotated[pd.DataFrame, DataSource(name="samples")]
    copied: Annotated[pd.DataFrame | None, DataSink(name="copied")] = None


@plugin(name="Copy", default_config=CopyConfig)
def copy(config: CopyConfig) -> pd.DataFrame:
    """Returns the samples as they came."""
    return config.samples
