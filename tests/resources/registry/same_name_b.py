"""The other module that defines a plugin with the same name."""

from nexus import plugin


@plugin(name="Twin Name")  # <- reported
def second() -> None:
    """The second definition."""
