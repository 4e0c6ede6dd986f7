"""Command-line overrides Hydra's parser cannot take are parameter errors."""

from __future__ import annotations

import pytest

from nexus.config.overrides import check_overrides
from nexus.errors import ConfigError

DIGITS = "7" * 5000

REFUSED = {
    "long-number": ([f"pipeline.x={DIGITS}"], "pipeline.x = 777", "a number of 5,000 digits"),
    "long-negative": ([f"pipeline.x=-{DIGITS}"], "pipeline.x", "5,000 digits"),
    "in-a-list": ([f"pipeline.x=[1,{DIGITS}]"], "pipeline.x", "5,000 digits"),
    "in-a-dict": ([f"pipeline.x={{a: {DIGITS}}}"], "pipeline.x", "5,000 digits"),
    "appended": ([f"+pipeline.y={DIGITS}"], "pipeline.y = ", "5,000 digits"),
    "deep-list": (["pipeline.x=" + "[" * 65 + "]" * 65], "pipeline.x", "more than 64 levels"),
    "deep-dict": (["pipeline.x=" + "{a:" * 100 + "1" + "}" * 100], "pipeline.x", "64 levels"),
}


@pytest.mark.parametrize(("args", "key", "why"), REFUSED.values(), ids=REFUSED.keys())
def test_overrides_no_parameter_can_hold_are_refused(args: list[str], key: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_overrides(["case=demo", *args])

    message = caught.value.render()
    assert key in message
    assert why in message
    assert len(message) < 400


ACCEPTED = {
    "quoted-number": [f"pipeline.x='{DIGITS}'"],
    "at-the-limit": ["pipeline.x=" + "9" * 4300],
    "brackets-in-quotes": ["pipeline.x='" + "[" * 100 + "'"],
    "nested-a-little": ["pipeline.x=[[1,2],[3,4]]"],
    "flags": ["-m", "--cfg", "job"],
}


@pytest.mark.parametrize("args", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_ordinary_overrides_pass(args: list[str]) -> None:
    check_overrides(args)
