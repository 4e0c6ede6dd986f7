"""`@plugin` without its arguments."""

from nexus import plugin


@plugin  # type: ignore[arg-type]  # <- reported
def no_name() -> None:
    """Has no name."""
