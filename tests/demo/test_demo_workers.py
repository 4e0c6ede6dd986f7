"""The demo renderer's worker processes: same frames as in-process, stopped on close or error."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nexus import Metrics
from nexus.core.progress import Progress
from plugins.demo import workers
from plugins.demo.canvas import Scene, Track, camera_path
from plugins.demo.compensator import CompensatorConfig, compensate
from plugins.demo.data_generator import generate_demo_data
from plugins.demo.renderer import RendererConfig, render

pytestmark = pytest.mark.skipif(
    not workers.parallel_supported(), reason="workers are forked: Linux only"
)
log = logging.getLogger("tests.demo.workers")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    """20 frames of the demo (three chunks: two full, one short), small ones."""
    raw = {p.stem: pd.read_csv(p) for p in generate_demo_data(tmp_path_factory.mktemp("case"))}
    states = compensate(CompensatorConfig(measurements=raw["latent_measurements"]), log, Metrics())
    times = raw["video_manifest"]["t"].to_numpy()[100:120]
    track = Track.of(states, "states")
    return Scene(
        width=160,
        height=120,
        zoom_factor=5,
        trail_s=1.5,
        states=track,
        measured=Track.of(raw["latent_measurements"], "measurements"),
        truth=Track.of(raw["ground_truth"], "truth"),
        times=times,
        centres=camera_path(track, times),
    )


def children() -> set[int]:
    """Pids of this process's live child processes."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def test_workers_draw_the_same_frames_in_the_same_order(scene: Scene) -> None:
    alone = [frame.copy() for frame in workers.draw_frames(scene, 1)]
    shared = list(workers.draw_frames(scene, 3))

    assert len(shared) == len(alone) == 20
    for one, other in zip(alone, shared, strict=True):
        np.testing.assert_array_equal(one, other)


def test_closing_the_frames_early_stops_the_workers(scene: Scene) -> None:
    before = children()
    frames = workers.draw_frames(scene, 2)
    next(frames)
    assert children() - before  # the workers are running

    frames.close()

    assert children() - before == set()


def test_a_failing_worker_fails_the_frames(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def __init__(self, scene: Scene) -> None:
            raise RuntimeError("no canvas today")

    monkeypatch.setattr(workers, "Canvas", Broken)  # forked workers inherit the patch

    with pytest.raises(RuntimeError, match="no canvas today"):
        list(workers.draw_frames(scene, 2))


def test_the_renderer_uses_one_worker_per_core_by_default() -> None:
    assert RendererConfig.model_fields["workers"].default is None
    assert workers.available_cores() >= 1


def test_the_renderer_draws_the_same_frames_with_and_without_workers(tmp_path: Path) -> None:
    raw = {p.stem: pd.read_csv(p) for p in generate_demo_data(tmp_path)}
    states = compensate(CompensatorConfig(measurements=raw["latent_measurements"]), log, Metrics())

    def frames(count: int) -> list[np.ndarray]:
        config = RendererConfig(
            states=states,
            measurements=raw["latent_measurements"],
            frame_times=raw["video_manifest"].iloc[:17],
            width=96,
            height=64,
            workers=count,
        )
        return [frame.copy() for frame in render(config, log, Progress("test", log))]

    for one, other in zip(frames(1), frames(2), strict=True):
        np.testing.assert_array_equal(one, other)
