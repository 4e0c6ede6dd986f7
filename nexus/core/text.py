"""Names and times as nexus writes them: slugs of step and case names, ISO 8601 timestamps."""

from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = ["now_iso", "slug"]


def now_iso() -> str:
    """The local time now, ISO 8601 with milliseconds and the UTC offset (as run.json has it)."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")


def slug(text: str, keep: str = "") -> str:
    """`text` with each run of characters other than ASCII letters, digits and `keep` made `_`.

    Leading and trailing `_` (and `keep`) go; the case is kept, so lower `text` first for a key.
    `Frame Renderer` -> `Frame_Renderer`; `../my case` with `keep="-"` -> `my_case`.
    """
    return re.sub(f"[^A-Za-z0-9{re.escape(keep)}]+", "_", text).strip("_" + keep)
