"""A plugin whose default_config is not a pydantic model."""

from dataclasses import dataclass

from nexus import plugin


@dataclass
class Settings:
    window: int = 3


@plugin(name="Dataclass Config", default_config=Settings)  # type: ignore[arg-type]  # <- reported
def uses_dataclass(config: Settings) -> None:
    """Configured by a dataclass."""
