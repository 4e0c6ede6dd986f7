"""One table of injectable services: what registration accepts is what a call receives."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from nexus import DataHub, Metrics, Progress, RunContext, plugin
from nexus.core.services import SERVICES
from nexus.testing import run_plugin


class Config(BaseModel):
    factor: int = 2


def test_every_service_of_the_table_reaches_a_plugin_by_name() -> None:
    received: dict[str, Any] = {}

    @plugin(name="Everything", default_config=Config)
    def everything(config, logger, hub, context, metrics, progress):  # type: ignore[no-untyped-def]
        received.update(
            config=config,
            logger=logger,
            hub=hub,
            context=context,
            metrics=metrics,
            progress=progress,
        )

    run_plugin(everything, params={"factor": 3})

    assert set(received) == set(SERVICES)
    assert received["config"] == Config(factor=3)
    for name, cls in SERVICES.items():
        if cls is not None:
            assert isinstance(received[name], cls), name


def test_a_service_asked_for_by_type_arrives_under_any_parameter_name() -> None:
    received: dict[str, Any] = {}

    @plugin(name="By Type", default_config=Config)
    def by_type(
        settings: Config,
        log: logging.Logger,
        data: DataHub,
        where: RunContext,
        numbers: Metrics,
        bar: Progress,
    ) -> None:
        received.update(settings=settings, numbers=numbers, bar=bar)

    run_plugin(by_type)

    assert by_type.__nexus_plugin__.injections == {  # type: ignore[attr-defined]
        "settings": "config",
        "log": "logger",
        "data": "hub",
        "where": "context",
        "numbers": "metrics",
        "bar": "progress",
    }
    assert [type(received[p]) for p in ("settings", "numbers", "bar")] == [
        Config,
        Metrics,
        Progress,
    ]
