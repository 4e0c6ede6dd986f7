"""A case's handler_args, checked against the built-in handlers before a run."""

from __future__ import annotations

from typing import Any

import pytest

from nexus.config.handler_args import check_handler_args
from nexus.core.registry import HandlerSpec
from nexus.handlers import CsvHandler, FramesHandler, JsonHandler, Mp4Handler


def _spec(cls: type) -> HandlerSpec:
    return HandlerSpec(cls.name, cls.extensions, cls(), cls)


REFUSED = {
    "frames-compress": (FramesHandler, {"compress": 3}, True, "did you mean 'compress_type' or"),
    "frames-level-text": (FramesHandler, {"compress_level": "high"}, True, "valid integer"),
    "frames-level-10": (FramesHandler, {"compress_level": 10}, True, "must be 0-9"),
    "frames-video-quality": (FramesHandler, {"video": {"quality": 5}}, True, "video.quality"),
    "frames-video-crf": (FramesHandler, {"video": {"crf": 99}}, True, "video.crf = 99"),
    "frames-video-number": (FramesHandler, {"video": 5}, True, "video = 5"),
    "mp4-quality": (Mp4Handler, {"quality": 5}, True, "quality: unknown; known: fps, codec"),
    "mp4-crf-high": (Mp4Handler, {"crf": "high"}, True, "crf = 'high'"),
    "mp4-crf-negative": (Mp4Handler, {"crf": -1}, True, "crf = -1: must be a whole number"),
    "mp4-fps-zero": (Mp4Handler, {"fps": 0}, True, "fps = 0"),
    "mp4-preset": (Mp4Handler, {"preset": "quick"}, True, "preset = 'quick': one of"),
    "mp4-params-string": (Mp4Handler, {"output_params": "-an"}, True, "output_params = '-an'"),
    "csv-load-sepp": (CsvHandler, {"sepp": ";"}, False, "did you mean 'sep'?"),
    "csv-save-idx": (CsvHandler, {"idx": False}, True, "did you mean 'index'?"),
}


@pytest.mark.parametrize(
    ("cls", "args", "saving", "expected"), REFUSED.values(), ids=REFUSED.keys()
)
def test_wrong_handler_args_are_named(
    cls: type, args: dict[str, Any], saving: bool, expected: str
) -> None:
    _, problems = check_handler_args(_spec(cls), args, saving)

    assert len(problems) == 1, problems
    assert expected in problems[0]


ACCEPTED = {
    "frames-pillow-option": (FramesHandler, {"optimize": True, "compress_level": 6}, True),
    "frames-video": (FramesHandler, {"video": {"fps": 30, "crf": 18}}, True),
    "frames-video-true": (FramesHandler, {"video": True}, True),
    "mp4-all": (Mp4Handler, {"fps": 25, "crf": 18, "preset": "fast", "codec": "libx264"}, True),
    "mp4-load-anything": (Mp4Handler, {"whatever": 1}, False),
    "csv-load-sep": (CsvHandler, {"sep": ";", "usecols": ["t"]}, False),
    "json-save-indent": (JsonHandler, {"indent": 4}, True),
}


@pytest.mark.parametrize(("cls", "args", "saving"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_right_handler_args_pass(cls: type, args: dict[str, Any], saving: bool) -> None:
    checked, problems = check_handler_args(_spec(cls), args, saving)

    assert problems == []
    assert checked.keys() == args.keys()


def test_typed_args_are_converted_for_the_handler() -> None:
    checked, problems = check_handler_args(_spec(Mp4Handler), {"crf": "18", "fps": 25}, True)

    assert problems == []
    assert checked == {"crf": 18, "fps": 25.0}
