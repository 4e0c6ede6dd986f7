"""A plugin that misspells `config`."""

from pydantic import BaseModel

from nexus import plugin


class Settings(BaseModel):
    window: int = 3


@plugin(name="Typo", default_config=Settings)  # <- reported
def typo(confg) -> None:  # type: ignore[no-untyped-def]
    """Asks for `confg`, unannotated (annotated with Settings it would be injected by type)."""
