"""Plugins for the tests of nexus.testing: every injection, and each way a step can go wrong."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from pydantic import BaseModel, Field

from nexus import DataHub, DataSink, DataSource, Metrics, RunContext, plugin


class CounterConfig(BaseModel):
    words: Annotated[list[str], DataSource(name="words")]
    stop_words: Annotated[list[str] | None, DataSource(name="stop_words")] = None
    counts: Annotated[dict[str, int] | None, DataSink(name="word_counts")] = None
    min_length: int = Field(1, ge=1, le=20, description="shorter words are not counted")
    label: str = "counts"


@plugin(name="Counter", default_config=CounterConfig)
def count(
    config: CounterConfig, logger: logging.Logger, metrics: Metrics, context: RunContext
) -> dict[str, int]:
    """Counts the words of at least `min_length` letters; notes where it ran."""
    stop = set(config.stop_words or [])
    counts: dict[str, int] = {}
    for word in config.words:
        if len(word) >= config.min_length and word not in stop:
            counts[word] = counts.get(word, 0) + 1
    metrics.log("distinct", len(counts))
    logger.info("counted %d distinct words for %s", len(counts), config.label)
    (context.run_dir / "ran_in.txt").write_text(f"{context.step}\n", encoding="utf-8")
    return counts


class HubReaderConfig(BaseModel):
    total: Annotated[float | None, DataSink(name="total")] = None


@plugin(name="Hub Reader", default_config=HubReaderConfig)
def read_from_hub(config: HubReaderConfig, hub: DataHub) -> float:
    """Reads a name it does not declare, through the hub."""
    return float(sum(hub.get("numbers")))


class ForgetfulConfig(BaseModel):
    result: Annotated[Any, DataSink(name="result")] = None


@plugin(name="Forgetful", default_config=ForgetfulConfig)
def forget(config: ForgetfulConfig) -> None:
    """Declares an output and returns nothing."""


class RaiserConfig(BaseModel):
    limit: float = Field(1.0, gt=0)


@plugin(name="Raiser", default_config=RaiserConfig)
def raise_value_error(config: RaiserConfig) -> None:
    """Raises its own error."""
    raise ValueError(f"over the limit of {config.limit}")


class NeedyConfig(BaseModel):
    threshold: float = Field(description="has no default")


@plugin(name="Needy Step", default_config=NeedyConfig)
def needy(config: NeedyConfig) -> None:
    """Needs a parameter without default."""


def not_a_plugin() -> None:
    """A plain function without @plugin."""
