"""The chosen cases on the command line, before Hydra sees them."""

from __future__ import annotations

import pytest

from nexus.cli.args import default_case, quote_cases

QUOTED = {
    "ascii-left-alone": (["case=demo", "x=1"], ["case=demo", "x=1"]),
    "accented": (["case=démo"], ["case='démo'"]),
    "cjk": (["case=日本"], ["case='日本'"]),
    "already-quoted": (["case='démo'"], ["case='démo'"]),
    "double-quoted": (['case="démo"'], ["case='démo'"]),
    "a-list": (["case=demo,démo"], ["case=demo,'démo'"]),
    "other-keys-untouched": (["pipeline.name=é"], ["pipeline.name=é"]),
}


@pytest.mark.parametrize(("args", "expected"), QUOTED.values(), ids=QUOTED.keys())
def test_case_names_are_quoted_for_hydra_when_not_ascii(
    args: list[str], expected: list[str]
) -> None:
    assert quote_cases(args) == expected


DEFAULTS = {
    "chosen": ({"defaults": ["nexus", {"case": "demo"}, "_self_"]}, ["demo"]),
    "missing-value": ({"defaults": ["nexus", {"case": "???"}]}, []),
    "no-defaults": ({}, []),
    "odd-defaults": ({"defaults": "nexus"}, []),
    "other-groups": ({"defaults": [{"plugin_defaults": "${case}"}]}, []),
}


@pytest.mark.parametrize(("config", "expected"), DEFAULTS.values(), ids=DEFAULTS.keys())
def test_the_default_case_comes_from_the_defaults_list(
    config: dict[str, object], expected: list[str]
) -> None:
    assert default_case(config) == expected
