"""A config that gives a DataSource as a field's default, in the style of FastAPI's Depends()."""

from pydantic import BaseModel

from nexus import DataSource, plugin


class Settings(BaseModel):
    table: dict = DataSource(name="raw_table")  # type: ignore[assignment]


@plugin(name="Default Marker", default_config=Settings)  # <- reported
def default_marker(config: Settings) -> None:
    """Reads nothing: `table` is a parameter whose default is a DataSource."""
