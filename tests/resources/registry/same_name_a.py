"""One of two modules that define a plugin with the same name."""

from nexus import plugin


@plugin(name="Twin Name")  # <- reported
def first() -> None:
    """The first definition."""
