"""Steps that write the parameters they received, so a test can read what reached them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from nexus import DataSink, DataSource, RunContext, plugin


class MakerConfig(BaseModel):
    made: Annotated[dict | None, DataSink(name="made")] = None
    factor: float = Field(1.0, ge=0, le=10, description="a bounded number")
    count: int = Field(3, ge=0, description="a non-negative whole number")
    ratio: float = Field(0.5, description="any number")


@plugin(name="Maker", default_config=MakerConfig)
def make(config: MakerConfig) -> dict[str, Any]:
    """Writes its own parameters."""
    return config.model_dump(exclude={"made"})


class UserConfig(BaseModel):
    made: Annotated[dict, DataSource(name="made")]
    hint: Annotated[dict | None, DataSource(name="hint")] = None
    used: Annotated[dict | None, DataSink(name="used")] = None
    factor: float = Field(1.0, description="shares its name with Maker's")


@plugin(name="User", default_config=UserConfig)
def use(config: UserConfig, context: RunContext) -> dict[str, Any]:
    """Writes what it read (`hint` is optional), its own factor, and where it ran."""
    return {
        "made": config.made,
        "hint": config.hint,
        "factor": config.factor,
        "run_dir": str(context.run_dir),
    }


class ReaderConfig(BaseModel):
    raw: Annotated[dict, DataSource(name="raw")]
    copied: Annotated[dict | None, DataSink(name="copied")] = None


@plugin(name="Reader", default_config=ReaderConfig)
def read(config: ReaderConfig) -> dict[str, Any]:
    """Copies an input of the case."""
    return dict(config.raw)


class TwinConfig(BaseModel):
    made: Annotated[dict | None, DataSink(name="made")] = None


@plugin(name="Twin", default_config=TwinConfig)
def twin(config: TwinConfig) -> dict[str, Any]:
    """Writes the same logical name as Maker."""
    return {"twin": True}


class NeedyConfig(BaseModel):
    needed: Annotated[dict | None, DataSink(name="needed")] = None
    threshold: float = Field(description="has no default")


@plugin(name="Needy", default_config=NeedyConfig)
def needy(config: NeedyConfig) -> dict[str, Any]:
    """Needs a parameter that has no default."""
    return {"threshold": config.threshold}
