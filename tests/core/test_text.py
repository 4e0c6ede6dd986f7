"""Slugs of names and ISO timestamps: the one helper each."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nexus.core.text import now_iso, slug


@pytest.mark.parametrize(
    ("text", "keep", "expected"),
    [
        ("Frame Renderer", "", "Frame_Renderer"),
        ("frame renderer", "", "frame_renderer"),
        ("close_up", "", "close_up"),
        ("  v1.2 -- final!  ", "", "v1_2_final"),
        ("Größe", "", "Gr_e"),
        ("../escape", "-", "escape"),
        ("my case-2", "-", "my_case-2"),
        ("---", "-", ""),
    ],
    ids=["spaces", "lower", "underscore", "punctuation", "non-ascii", "path", "keep", "empty"],
)
def test_slug(text: str, keep: str, expected: str) -> None:
    assert slug(text, keep) == expected


def test_now_iso_is_local_time_with_milliseconds_and_offset() -> None:
    stamp = now_iso()

    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() is not None
    assert len(stamp.split("T")[1].split(".")[1]) >= 3  # milliseconds, then the offset
    assert abs(datetime.now(parsed.tzinfo) - parsed) < timedelta(seconds=5)
