"""A plugin that asks for a parameter as an argument instead of in its config model."""

from pydantic import BaseModel

from nexus import plugin


class Settings(BaseModel):
    window: int = 3


@plugin(name="Argument", default_config=Settings)  # <- reported
def argument(config: Settings, threshold: float) -> None:
    """Asks for `threshold`, which nothing provides."""
