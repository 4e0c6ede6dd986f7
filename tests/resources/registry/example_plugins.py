"""Example plugins: each spelling of DataSource/DataSink, and each way to ask for a service."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict

from nexus import DataHub, DataSink, DataSource, Metrics, RunContext, plugin


class Table:
    """Stands in for a data type such as a DataFrame."""


class Plain(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Annotated[Table, DataSource(name="raw_table")]
    result: Annotated[Table, DataSink(name="result_table")] = None  # type: ignore[assignment]
    threshold: float = 0.5


class OptionalOfAnnotated(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Optional[Annotated[Table, DataSource(name="raw_table")]] = None  # noqa: UP045
    result: Optional[Annotated[Table, DataSink(name="result_table")]] = None  # noqa: UP045
    threshold: float = 0.5


class AnnotatedOfUnion(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Annotated[Table | None, DataSource(name="raw_table")] = None
    result: Annotated[Table | None, DataSink(name="result_table")] = None
    threshold: float = 0.5


class UnionOfAnnotated(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: Annotated[Table, DataSource(name="raw_table")] | None = None
    result: Annotated[Table, DataSink(name="result_table")] | None = None
    threshold: float = 0.5


@plugin(name="Plain", default_config=Plain)
def plain(config: Plain) -> Table:
    """Returns its input."""
    return config.table


@plugin(name="Optional Of Annotated", default_config=OptionalOfAnnotated)
def optional_of_annotated(config: OptionalOfAnnotated) -> Table | None:
    return config.table


@plugin(name="Annotated Of Union", default_config=AnnotatedOfUnion)
def annotated_of_union(config: AnnotatedOfUnion) -> Table | None:
    return config.table


@plugin(name="Union Of Annotated", default_config=UnionOfAnnotated)
def union_of_annotated(config: UnionOfAnnotated) -> Table | None:
    return config.table


@plugin(name="By Name", default_config=Plain)
def by_name(config, logger, hub, context, metrics):  # type: ignore[no-untyped-def]
    return config.table


@plugin(name="By Type", default_config=Plain)
def by_type(
    settings: Plain, log: logging.Logger, data: DataHub, where: RunContext, numbers: Metrics
) -> Table:
    return settings.table


@plugin(name="With Defaults", default_config=Plain)
def with_defaults(config: Plain, retries: int = 3, *args: Any, **kwargs: Any) -> Table:
    return config.table


@plugin(name="No Config")
def no_config(logger: logging.Logger) -> None:
    logger.info("nothing to do")
