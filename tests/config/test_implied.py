"""The handler an unmapped output's type implies, and where it is saved."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
import pytest

from nexus.config.implied import implied_location
from nexus.core.markers import DataSink
from nexus.handlers import FrameSequence, Video

HANDLERS = {"parquet": object(), "frames": object(), "mp4": object(), "json": object()}


class MyFrame(pd.DataFrame):
    """A subclass is placed as its base is."""


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        pytest.param(pd.DataFrame | None, ("out.parquet", "parquet"), id="dataframe"),
        pytest.param(MyFrame, ("out.parquet", "parquet"), id="dataframe-subclass"),
        pytest.param(FrameSequence | None, ("out", "frames"), id="frames"),
        pytest.param(Video | None, ("out.mp4", "mp4"), id="video"),
        pytest.param(dict[str, Any] | None, ("out.json", "json"), id="dict"),
        pytest.param(list[float], ("out.json", "json"), id="list"),
        pytest.param(float | None, ("out.json", "json"), id="number"),
        pytest.param(
            Annotated[dict | None, DataSink(name="out")], ("out.json", "json"), id="annotated"
        ),
        pytest.param(Any, None, id="any"),
        pytest.param(bytes, None, id="no-handler-for-it"),
    ],
)
def test_the_type_of_an_output_implies_its_handler(
    annotation: Any, expected: tuple[str, str] | None
) -> None:
    found = implied_location(annotation, "out", HANDLERS)

    assert (found and (found["path"], found["handler"])) == expected


def test_a_handler_that_is_not_registered_is_never_implied() -> None:
    assert implied_location(pd.DataFrame, "out", {"json": object()}) is None
