"""The demo's generator and steps, run on generated data.

The steps run through `nexus.testing.run_plugin`: the parameters and inputs are validated and
injected as in a real run, only the data stays in memory.
"""

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
from nexus.errors import ConfigError, DataError
from nexus.handlers import FrameSequence, FramesHandler, Video
from nexus.testing import run_plugin

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # nexus imports plugins/ as `plugins.<...>` from the project root
    sys.path.insert(0, str(ROOT))

from plugins.demo.compensator import CompensatorConfig, compensate  # noqa: E402
from plugins.demo.data_generator import generate_demo_data  # noqa: E402
from plugins.demo.renderer import render  # noqa: E402
from plugins.demo.video import create_video, manifest_rate  # noqa: E402

LATENCIES = [round(0.05 * i, 2) for i in range(11)]  # 0.0, 0.05, ..., 0.5
STEP_LOGS = "nexus.step"  # the loggers nexus gives the steps: nexus.step.<name>


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The demo's raw tables, generated once for the module."""
    case_dir = tmp_path_factory.mktemp("case")
    return {path.stem: pd.read_csv(path) for path in generate_demo_data(case_dir)}


@pytest.fixture(scope="module")
def states(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return run_plugin(compensate, {"latent_measurements": raw["latent_measurements"]}).output


def rmse_for(raw: dict[str, pd.DataFrame], latency: float) -> float:
    run = run_plugin(
        compensate,
        inputs={
            "latent_measurements": raw["latent_measurements"],
            "ground_truth": raw["ground_truth"],
        },
        params={"latency_to_compensate_s": latency},
    )
    return run.metrics["rmse"]


def demo_inputs(raw: dict[str, pd.DataFrame], states: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The renderer's inputs on the demo data, by logical name."""
    return {
        "predicted_states": states,
        "latent_measurements": raw["latent_measurements"],
        "video_manifest": raw["video_manifest"],
        "ground_truth": raw["ground_truth"],
    }


def render_frames(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, **params: Any
) -> Iterator[np.ndarray]:
    """The renderer's frames on the demo data, with `params` overriding the defaults."""
    return run_plugin(render, demo_inputs(raw, states), params).output


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
    inputs = {
        "latent_measurements": raw["latent_measurements"],
        "ground_truth": raw["ground_truth"],
    }

    with caplog.at_level(logging.INFO, logger=STEP_LOGS):
        run = run_plugin(compensate, inputs)

    states = run.output
    assert list(states.columns) == ["t", "x", "y", "vx", "vy", "x_measured", "y_measured"]
    assert len(states) == 1800
    assert not states.isna().any().any()
    assert 0 < run.metrics["rmse"] < 1
    assert run.config.latency_to_compensate_s == 0.2  # the model's default
    assert "RMSE" in caplog.text
    assert {r.name for r in caplog.records} == {"nexus.step.latency_compensator"}


def test_compensator_without_ground_truth_logs_no_metric(raw: dict[str, pd.DataFrame]) -> None:
    run = run_plugin(compensate, {"latent_measurements": raw["latent_measurements"]})

    assert "rmse" not in run.metrics
    assert run.metrics.values == {}


def test_compensator_stays_a_plain_function(raw: dict[str, pd.DataFrame]) -> None:
    metrics = Metrics()
    config = CompensatorConfig(
        measurements=raw["latent_measurements"], ground_truth=raw["ground_truth"]
    )

    states = compensate(config, logging.getLogger("tests.demo"), metrics)

    helper = run_plugin(
        compensate,
        {"latent_measurements": raw["latent_measurements"], "ground_truth": raw["ground_truth"]},
    )
    pd.testing.assert_frame_equal(states, helper.output)
    assert metrics.values == helper.metrics.values


def test_compensator_extrapolates_a_straight_motion_exactly() -> None:
    t = np.arange(200) / 100
    moving = pd.DataFrame({"t": t, "x": 3.0 * t, "y": 1.0 - 2.0 * t})
    params = {"latency_to_compensate_s": 0.5, "velocity_window": 10}

    states = run_plugin(compensate, {"latent_measurements": moving}, params).output

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
        run_plugin(compensate, {"latent_measurements": table})

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

    states = run_plugin(compensate, {"latent_measurements": table}).output

    assert len(states) == n
    assert np.isfinite(states[["x", "y", "vx", "vy"]].to_numpy()).all()


# -- renderer -----------------------------------------------------------------------------


def test_renderer_returns_a_generator_of_frames_of_the_configured_size(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame
) -> None:
    frames = render_frames(raw, states, width=333, height=201)

    assert isinstance(frames, Iterator)
    first = [next(frames) for _ in range(3)]
    assert all(f.shape == (201, 333, 3) and f.dtype == np.uint8 for f in first)
    frames.close()


@pytest.mark.parametrize(("width", "height"), [(640, 480), (113, 97), (1280, 720)])
def test_renderer_frames_are_exactly_width_by_height(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, width: int, height: int
) -> None:
    frames = render_frames(raw, states, width=width, height=height)

    assert next(frames).shape == (height, width, 3)


def test_renderer_draws_one_distinct_frame_per_manifest_row(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=STEP_LOGS):
        frames = list(render_frames(raw, states))

    assert len(frames) == len(raw["video_manifest"]) == 300
    assert all(f.shape == (480, 640, 3) for f in frames)
    assert not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[100], frames[200])
    assert len({f.tobytes() for f in frames[::10]}) == 30
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Frame R")]
    assert len(progress) == 10
    assert progress[-1].startswith("Frame Renderer: 300/300 frames (100%), ")


def test_renderer_works_without_ground_truth_and_streams_to_disk(
    raw: dict[str, pd.DataFrame], states: pd.DataFrame, tmp_path: Path
) -> None:
    inputs = demo_inputs(raw, states)
    del inputs["ground_truth"]
    inputs["video_manifest"] = raw["video_manifest"].iloc[:12]

    FramesHandler().save(run_plugin(render, inputs).output, tmp_path / "frames")

    saved = FramesHandler().load(tmp_path / "frames")
    assert len(saved) == 12
    assert saved.frame_size == (640, 480)


def test_renderer_zoom_changes_the_view(raw: dict[str, pd.DataFrame], states: pd.DataFrame) -> None:
    near = next(render_frames(raw, states, zoom_factor=8))
    far = next(render_frames(raw, states, zoom_factor=1))

    assert not np.array_equal(near, far)


def test_renderer_names_missing_columns(raw: dict[str, pd.DataFrame], states: pd.DataFrame) -> None:
    inputs = {**demo_inputs(raw, states), "predicted_states": states.rename(columns={"x": "east"})}

    with pytest.raises(DataError, match="predicted states table lacks column 'x'"):
        run_plugin(render, inputs)


# -- video creator ------------------------------------------------------------------------


def test_create_video_returns_a_lazy_video(tmp_path: Path) -> None:
    FramesHandler().save([np.zeros((8, 8, 3), np.uint8)] * 4, tmp_path / "frames")
    frames = FramesHandler().load(tmp_path / "frames")

    video = run_plugin(create_video, {"rendered_frames": frames}, {"fps": 12.5}).output

    assert isinstance(video, Video)
    assert video.fps == 12.5
    assert isinstance(video.frames, FrameSequence)
    assert video.frames.paths == frames.paths


def test_the_video_plays_at_the_manifest_rate_unless_fps_is_given(tmp_path: Path) -> None:
    FramesHandler().save([np.zeros((8, 8, 3), np.uint8)] * 4, tmp_path / "frames")
    frames = FramesHandler().load(tmp_path / "frames")
    at_60 = pd.DataFrame({"frame_index": range(4), "t": [round(i / 60, 3) for i in range(4)]})
    inputs = {"rendered_frames": frames, "video_manifest": at_60}

    assert run_plugin(create_video, inputs).output.fps == 60  # 0.017, 0.016, 0.017 s apart
    assert run_plugin(create_video, inputs, {"fps": 24}).output.fps == 24
    ntsc = pd.DataFrame({"t": [i * 1001 / 30000 for i in range(300)]})
    assert manifest_rate(ntsc) == 30000 / 1001


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (None, "the Video Creator needs a frame rate: there is no video manifest"),
        (pd.DataFrame({"t": [0.0]}), "the video manifest gives no frame rate"),
        (pd.DataFrame({"t": [1.0, 0.0]}), "the video manifest gives no frame rate"),
        (pd.DataFrame({"time": [0.0, 1.0]}), "the video manifest lacks"),
    ],
    ids=["no-manifest", "one-frame", "backwards", "no-t-column"],
)
def test_a_video_without_a_frame_rate_is_a_clear_error(
    tmp_path: Path, manifest: pd.DataFrame | None, message: str
) -> None:
    FramesHandler().save([np.zeros((8, 8, 3), np.uint8)] * 2, tmp_path / "frames")
    inputs: dict[str, Any] = {"rendered_frames": FramesHandler().load(tmp_path / "frames")}
    if manifest is not None:
        inputs["video_manifest"] = manifest

    with pytest.raises(DataError, match=message):
        run_plugin(create_video, inputs)


# -- the bounds of the demo's parameters ------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "param", "value", "message"),
    [
        (
            compensate,
            "latency_to_compensate_s",
            -0.1,
            "pipeline.latency_to_compensate_s = -0.1 (from run_plugin params): "
            "Input should be greater than or equal to 0 [step 'Latency Compensator']",
        ),
        (
            compensate,
            "velocity_window",
            1,
            "pipeline.velocity_window = 1 (from run_plugin params): "
            "Input should be greater than or equal to 2 [step 'Latency Compensator']",
        ),
        (
            render,
            "zoom_factor",
            0,
            "pipeline.zoom_factor = 0 (from run_plugin params): "
            "Input should be greater than 0 [step 'Frame Renderer']",
        ),
        (
            render,
            "width",
            32,
            "pipeline.width = 32 (from run_plugin params): "
            "Input should be greater than or equal to 64 [step 'Frame Renderer']",
        ),
        (
            create_video,
            "fps",
            500,
            "pipeline.fps = 500 (from run_plugin params): "
            "Input should be less than or equal to 240 [step 'Video Creator']",
        ),
    ],
    ids=["negative-latency", "window-of-one", "zero-zoom", "narrow-frames", "fast-video"],
)
def test_out_of_bounds_parameters_are_refused_before_the_step_runs(
    plugin: Any, param: str, value: float, message: str
) -> None:
    # No inputs: the parameters are checked first, as in a run, before any data is loaded.
    with pytest.raises(ConfigError) as caught:
        run_plugin(plugin, {}, {param: value})

    assert caught.value.message.startswith("1 invalid parameter for plugin '")
    assert caught.value.details == [message, "fix the params= given to run_plugin()"]
