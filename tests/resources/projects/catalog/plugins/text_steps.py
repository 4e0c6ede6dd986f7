"""Two text steps: every kind of field that REFERENCE.md describes."""

from __future__ import annotations

from collections import Counter as Tally
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from nexus import DataSink, DataSource, Metrics, plugin


class TokenizerConfig(BaseModel):
    text: Annotated[str, DataSource(name="raw_text", description="the text to split")]
    tokens: Annotated[list[str] | None, DataSink(name="tokens")] = None
    lowercase: bool = True
    min_length: int = Field(1, ge=1, le=50, description="shorter tokens are dropped")
    separators: str = Field(" ,.\n", min_length=1, description="characters between tokens")


@plugin(name="Tokenizer", default_config=TokenizerConfig)
def tokenize(config: TokenizerConfig) -> list[str]:
    """Split a text into tokens.

    Runs of separators count as one.
    """
    text = config.text.lower() if config.lowercase else config.text
    for separator in config.separators:
        text = text.replace(separator, " ")
    return [t for t in text.split() if len(t) >= config.min_length]


class CounterConfig(BaseModel):
    tokens: Annotated[list[str], DataSource(name="tokens"), Field(description="what to count")]
    stop_words: Annotated[list[str] | None, DataSource(name="stop_words")] = Field(
        None, description="tokens left out"
    )
    counts: Annotated[dict[str, int] | None, DataSink(name="counts", description="by token")] = None
    top: int | None = Field(None, gt=0, description="keep the N most frequent | all of them")
    mode: Literal["tokens", "letters"] = "tokens"
    report: Path = Field(Path("reports/counts.txt"), description="unused; a path default")
    weights: list[float] = Field(default_factory=lambda: [1.0, 0.5], max_length=4)


@plugin(name="Counter", default_config=CounterConfig)
def count(config: CounterConfig, metrics: Metrics) -> dict[str, int]:
    """Count tokens (or letters), most frequent first."""
    stop = set(config.stop_words or [])
    items = [t for t in config.tokens if t not in stop]
    if config.mode == "letters":
        items = [letter for token in items for letter in token]
    counts = dict(Tally(items).most_common(config.top))
    metrics.log("distinct", len(counts))
    return counts
