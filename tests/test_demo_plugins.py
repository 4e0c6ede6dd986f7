"""The demo's generator and steps, called as plain functions on generated data."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nexus import Metrics
from nexus.errors import DataError
from nexus.handlers import FrameSequence, FramesHandler, Video

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # nexus imports plugins/ as `plugins.<...>` from the project root
    sys.path.insert(0, str(ROOT))

from plugins.demo.compensator import CompensatorConfig, compensate  # noqa: E402
from plugins.demo.data_generator import generate_demo_data  # noqa: E402
from plugins.demo.renderer import RendererConfig, render  # noqa: E402
from plugins.demo.video import VideoConfig, create_video  # noqa: E402

LATENCIES = [round(0.05 * i, 2) for i in range(11)]  # 0.0, 0.05, ..., 0.5
log = logging.getLogger("tests.demo")


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The demo's raw tables, generated once for the module."""
    case_dir = tmp_path_factory.mktemp("case")
    return {path.stem: pd.read_csv(path) for path in generate_demo_data(case_dir)}


@pytest.fixture(scope="module")
def states(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    config = CompensatorConfig(measurements=raw["latent_measurements"])
    return compensate(config, log, Metrics())


def rmse_for(raw: dict[str, pd.DataFrame], latency: float) -> float:
    metrics = Metrics()
    config = CompensatorConfig(
        measurements=raw["latent_measurements"],
        ground_truth=raw["ground_truth"],
        latency_to_compensate_s=latency,
    )
    compensate(config, log, metrics)
    return metrics["rmse"]


def renderer_config(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, **params: Any
) -> RendererConfig:
    """The renderer's config on the demo data, with `params` overriding the defaults."""
    return RendererConfig.model_validate(
        {
            "states": states,
            "measurements": raw["latent_measurements"],
            "frame_times": raw["video_manifest"],
            "ground_truth": raw["ground_truth"],
            **params,
        }
    )


# -- data generator -----------------------------------------------------------------------


def test_generator_is_deterministic_and_writes_the_expected_rows(tmp_path: Path) -> None:
    first = generate_demo_data(tmp_path / "a")
    second = generate_demo_data(tmp_path / "b")

    assert [p.name for p in first] == [
        "ground_truth.csv",
        "latent_measurements.csv",
        "video_manifest.csv",
    ]
    for a, b in zip(first, second, strict=True):
        assert a.parent == tmp_path / "a" / "raw_data"
        assert a.read_bytes() == b.read_bytes()
    tables = {p.stem: pd.read_csv(p) for p in first}
    assert list(tables["ground_truth"].columns) == ["t", "x", "y"]
    assert list(tables["latent_measurements"].columns) == ["t", "x", "y"]
    assert list(tables["video_manifest"].columns) == ["frame_index", "t"]
    assert len(tables["ground_truth"]) == 1800
    assert len(tables["latent_measurements"]) == 1800
    assert len(tables["video_manifest"]) == 300
    assert tables["video_manifest"]["t"].iloc[-1] == pytest.approx(299 / 30, abs=1e-6)
    assert not any(p.name.startswith(".") for p in (tmp_path / "a" / "raw_data").iterdir())


def test_generated_measurements_are_late(raw: dict[str, pd.DataFrame]) -> None:
    truth, measured = raw["ground_truth"], raw["latent_measurements"]
    shifted = truth[["x", "y"]].to_numpy()[:-36]  # 36 samples = 0.2 s at 180 Hz
    later = measured[["x", "y"]].to_numpy()[36:]

    # Measurements match the truth of 0.2 s earlier up to the noise, and not the present one.
    assert np.sqrt(np.mean(np.sum((later - shifted) ** 2, axis=1))) < 0.4
    assert np.sqrt(np.mean(np.sum((later - truth[["x", "y"]].to_numpy()[36:]) ** 2, axis=1))) > 1


# -- compensator --------------------------------------------------------------------------


def test_compensation_error_is_smallest_at_the_true_latency(raw: dict[str, pd.DataFrame]) -> None:
    rmse = {latency: rmse_for(raw, latency) for latency in LATENCIES}

    best = min(rmse, key=rmse.__getitem__)
    assert best == pytest.approx(0.2, abs=0.05 + 1e-9), rmse
    assert rmse[0.2] < 0.6 * rmse[0.0], rmse
    assert rmse[0.2] < 0.6 * rmse[0.4], rmse


def test_compensator_returns_states_and_logs_rmse(
    raw: dict[str, pd.DataFrame], caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    config = CompensatorConfig(
        measurements=raw["latent_measurements"], ground_truth=raw["ground_truth"]
    )

    with caplog.at_level(logging.INFO, logger=log.name):
        states = compensate(config, log, metrics)

    assert list(states.columns) == ["t", "x", "y", "vx", "vy", "x_measured", "y_measured"]
    assert len(states) == 1800
    assert not states.isna().any().any()
    assert 0 < metrics["rmse"] < 1
    assert "RMSE" in caplog.text


def test_compensator_without_ground_truth_logs_no_metric(raw: dict[str, pd.DataFrame]) -> None:
    metrics = Metrics()

    compensate(CompensatorConfig(measurements=raw["latent_measurements"]), log, metrics)

    assert "rmse" not in metrics


def test_compensator_extrapolates_a_straight_motion_exactly() -> None:
    t = np.arange(200) / 100
    moving = pd.DataFrame({"t": t, "x": 3.0 * t, "y": 1.0 - 2.0 * t})
    config = CompensatorConfig(measurements=moving, latency_to_compensate_s=0.5, velocity_window=10)

    states = compensate(config, log, Metrics())

    later = states.iloc[10:]
    np.testing.assert_allclose(later["vx"], 3.0, rtol=1e-6)
    np.testing.assert_allclose(later["x"], 3.0 * (later["t"] + 0.5), rtol=1e-6)
    np.testing.assert_allclose(later["y"], 1.0 - 2.0 * (later["t"] + 0.5), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("columns", "missing"),
    [(["time", "x", "y"], "'t'"), (["t", "pos_x", "pos_y"], "'x', 'y'")],
    ids=["no-t", "no-x-y"],
)
def test_compensator_names_missing_columns(columns: list[str], missing: str) -> None:
    table = pd.DataFrame(np.zeros((3, 3)), columns=columns)

    with pytest.raises(DataError, match=missing) as caught:
        compensate(CompensatorConfig(measurements=table), log, Metrics())

    text = str(caught.value)
    assert "expected columns: t, x, y" in text
    assert f"found columns: {', '.join(columns)}" in text


def test_compensator_is_fast_enough_for_long_recordings() -> None:
    # 180,000 rows (1,000 s at 180 Hz) must be vectorised work, not a Python loop per row.
    n = 180_000
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"t": np.arange(n) / 180, "x": rng.normal(size=n), "y": rng.normal(size=n)}
    )

    states = compensate(CompensatorConfig(measurements=table), log, Metrics())

    assert len(states) == n
    assert np.isfinite(states[["x", "y", "vx", "vy"]].to_numpy()).all()


# -- renderer -----------------------------------------------------------------------------


def test_renderer_returns_a_generator_of_frames_of_the_configured_size(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame
) -> None:
    config = renderer_config(raw, states, width=333, height=201)

    frames = render(config, log)

    assert isinstance(frames, Iterator)
    first = [next(frames) for _ in range(3)]
    assert all(f.shape == (201, 333, 3) and f.dtype == np.uint8 for f in first)
    frames.close()


@pytest.mark.parametrize(("width", "height"), [(640, 480), (113, 97), (1280, 720)])
def test_renderer_frames_are_exactly_width_by_height(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, width: int, height: int
) -> None:
    frames = render(renderer_config(raw, states, width=width, height=height), log)

    assert next(frames).shape == (height, width, 3)


def test_renderer_draws_one_distinct_frame_per_manifest_row(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=log.name):
        frames = list(render(renderer_config(raw, states), log))

    assert len(frames) == len(raw["video_manifest"]) == 300
    assert all(f.shape == (480, 640, 3) for f in frames)
    assert not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[100], frames[200])
    assert len({f.tobytes() for f in frames[::10]}) == 30
    progress = [r for r in caplog.records if r.getMessage().startswith("rendered ")]
    assert len(progress) == 10
    assert progress[-1].getMessage() == "rendered 300/300 frames"


def test_renderer_works_without_ground_truth_and_streams_to_disk(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, tmp_path: Path
) -> None:
    manifest = raw["video_manifest"].iloc[:12]
    config = RendererConfig(
        states=states, measurements=raw["latent_measurements"], frame_times=manifest
    )

    FramesHandler().save(render(config, log), tmp_path / "frames")

    saved = FramesHandler().load(tmp_path / "frames")
    assert len(saved) == 12
    assert saved.frame_size == (640, 480)


def test_renderer_zoom_changes_the_view(raw: dict[str, pd.DataFrame], states: pd.DataFrame) -> None:
    near = next(render(renderer_config(raw, states, zoom_factor=8), log))
    far = next(render(renderer_config(raw, states, zoom_factor=1), log))

    assert not np.array_equal(near, far)


def test_renderer_names_missing_columns(raw: dict[str, pd.DataFrame], states: pd.DataFrame) -> None:
    config = renderer_config(raw, states.rename(columns={"x": "east"}))

    with pytest.raises(DataError, match="predicted states table lacks column 'x'"):
        render(config, log)


# -- video creator ------------------------------------------------------------------------


def test_create_video_returns_a_lazy_video(tmp_path: Path) -> None:
    FramesHandler().save([np.zeros((8, 8, 3), np.uint8)] * 4, tmp_path / "frames")
    frames = FramesHandler().load(tmp_path / "frames")

    video = create_video(VideoConfig(frames=frames, fps=12.5), log)

    assert isinstance(video, Video)
    assert video.fps == 12.5
    assert isinstance(video.frames, FrameSequence)
    assert video.frames.paths == frames.paths
