"""The demo's steps on tables in another order, with gaps, or with values nobody can use.

Order that has a meaning (time) is restored and logged; a gap is left out with a warning
naming its rows; a value that is not a number, infinite or absurdly large is refused naming
the table and the row. The steps run through `nexus.testing.run_plugin` on generated data.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nexus.errors import DataError
from nexus.handlers import FramesHandler
from nexus.testing import run_plugin

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from plugins.demo.compensator import compensate  # noqa: E402
from plugins.demo.data_generator import generate_demo_data  # noqa: E402
from plugins.demo.renderer import render  # noqa: E402
from plugins.demo.video import create_video  # noqa: E402

Edit = Callable[[pd.DataFrame], pd.DataFrame]


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    case_dir = tmp_path_factory.mktemp("case")
    written = generate_demo_data(case_dir, duration_s=2)
    return {path.stem: pd.read_csv(path) for path in written if path.suffix == ".csv"}


def _shuffled(table: pd.DataFrame) -> pd.DataFrame:
    return table.sample(frac=1, random_state=3)


def _reversed(table: pd.DataFrame) -> pd.DataFrame:
    return table.iloc[::-1]


def _one_swap(table: pd.DataFrame) -> pd.DataFrame:
    order = list(range(len(table)))
    order[10], order[11] = order[11], order[10]
    return table.iloc[order]


def _set(row: int, column: str, value: Any) -> Edit:
    def edit(table: pd.DataFrame) -> pd.DataFrame:
        table = table.copy()
        if isinstance(value, str):
            table[column] = table[column].astype(object)
        table.loc[row, column] = value
        return table

    return edit


def _compensate(raw: dict[str, pd.DataFrame], edits: dict[str, Edit]) -> Any:
    inputs = {
        "latent_measurements": raw["latent_measurements"],
        "ground_truth": raw["ground_truth"],
    }
    inputs = {name: edits.get(name, lambda t: t)(table) for name, table in inputs.items()}
    return run_plugin(compensate, inputs)


ORDERS = {
    "measurements-shuffled": ("latent_measurements", _shuffled, "the measurements table"),
    "measurements-reversed": ("latent_measurements", _reversed, "the measurements table"),
    "measurements-one-swap": ("latent_measurements", _one_swap, "row 12 has t ="),
    "truth-shuffled": ("ground_truth", _shuffled, "the ground truth table"),
    "truth-reversed": ("ground_truth", _reversed, "the ground truth table"),
}


@pytest.mark.parametrize(("name", "edit", "named"), ORDERS.values(), ids=ORDERS.keys())
def test_the_compensator_sorts_by_time_and_says_so(
    raw: dict[str, pd.DataFrame],
    caplog: pytest.LogCaptureFixture,
    name: str,
    edit: Edit,
    named: str,
) -> None:
    expected = _compensate(raw, {})

    with caplog.at_level(logging.WARNING, logger="nexus.step"):
        run = _compensate(raw, {name: edit})

    pd.testing.assert_frame_equal(run.output, expected.output)
    assert run.metrics["rmse"] == pytest.approx(expected.metrics["rmse"])
    [warning] = [r.getMessage() for r in caplog.records if "not in time order" in r.getMessage()]
    assert named in warning
    assert warning.endswith("sorted by t")


REFUSED = {
    "huge-measurement": ("latent_measurements", _set(5, "x", 1e308), "x = 1e+308"),
    "infinite-measurement": ("latent_measurements", _set(0, "y", np.inf), "row 1: y = inf"),
    "minus-infinite-time": ("latent_measurements", _set(9, "t", -np.inf), "row 10: t = -inf"),
    "text-in-measurements": ("latent_measurements", _set(4, "t", "abc"), "row 5: t = 'abc'"),
    "huge-truth": ("ground_truth", _set(2, "x", -1e200), "row 3: x = -1e+200"),
    "text-in-truth": ("ground_truth", _set(7, "y", "n/a"), "row 8: y = 'n/a'"),
}


@pytest.mark.parametrize(("name", "edit", "shown"), REFUSED.values(), ids=REFUSED.keys())
def test_values_nobody_can_compute_with_are_refused_naming_the_row(
    raw: dict[str, pd.DataFrame], name: str, edit: Edit, shown: str
) -> None:
    table = "the measurements table" if name == "latent_measurements" else "the ground truth"

    with pytest.raises(DataError) as caught:
        _compensate(raw, {name: edit})

    message = caught.value.render()
    assert f"{table}" in message
    assert "holds values nexus cannot compute with" in message
    assert shown in message


GAPS = {
    "measurements": ("latent_measurements", "the measurements table", [3, 7]),
    "truth": ("ground_truth", "the ground truth table", [0, 1, 2, 3, 4]),
}


@pytest.mark.parametrize(("name", "table", "rows"), GAPS.values(), ids=GAPS.keys())
def test_rows_with_a_gap_are_left_out_with_a_warning(
    raw: dict[str, pd.DataFrame],
    caplog: pytest.LogCaptureFixture,
    name: str,
    table: str,
    rows: list[int],
) -> None:
    def gaps(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[rows, "x"] = np.nan
        return frame

    with caplog.at_level(logging.WARNING, logger="nexus.step"):
        run = _compensate(raw, {name: gaps})

    assert np.isfinite(run.metrics["rmse"])
    [warning] = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert warning.startswith(f"{table}: {len(rows)} rows with an empty t or x or y left out")
    assert f"rows {rows[0] + 1}, {rows[1] + 1}" in warning


def test_measurements_that_share_one_time_compensate_nothing_with_a_warning(
    raw: dict[str, pd.DataFrame], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="nexus.step"):
        run = _compensate(raw, {"latent_measurements": lambda t: t.assign(t=1.0)})

    assert np.isfinite(run.output[["x", "y"]].to_numpy()).all()
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "the measurements table: all" in m and "share one time (t = 1)" in m for m in messages
    )
    assert "the measurements give no velocity: nothing is compensated" in messages


def test_a_ground_truth_at_one_time_is_warned_about(
    raw: dict[str, pd.DataFrame], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="nexus.step"):
        _compensate(raw, {"ground_truth": lambda t: t.assign(t=0.5)})

    assert any("the ground truth table: all" in r.getMessage() for r in caplog.records)


# -- the video manifest: the renderer's frames and the video's rate


@pytest.fixture
def four_frames(tmp_path: Path) -> Any:
    FramesHandler().save([np.zeros((8, 8, 3), np.uint8)] * 4, tmp_path / "frames")
    return FramesHandler().load(tmp_path / "frames")


MANIFESTS = {
    "in-order": ([0.0, 0.05, 0.1, 0.15], 20, False),
    "reversed": ([0.15, 0.1, 0.05, 0.0], 20, True),
    "shuffled": ([0.1, 0.0, 0.15, 0.05], 20, True),
    "ntsc-shuffled": ([2 * 1001 / 30000, 0.0, 3 * 1001 / 30000, 1001 / 30000], 30000 / 1001, True),
}


@pytest.mark.parametrize(("times", "fps", "warned"), MANIFESTS.values(), ids=MANIFESTS.keys())
def test_the_video_rate_comes_from_the_manifest_in_time_order(
    four_frames: Any,
    caplog: pytest.LogCaptureFixture,
    times: list[float],
    fps: float,
    warned: bool,
) -> None:
    manifest = pd.DataFrame({"frame_index": range(4), "t": times})

    with caplog.at_level(logging.WARNING, logger="nexus.step"):
        video = run_plugin(
            create_video, {"rendered_frames": four_frames, "video_manifest": manifest}
        )

    assert video.output.fps == pytest.approx(fps)
    orders = [r for r in caplog.records if "the video manifest is not in time order" in r.message]
    assert bool(orders) == warned


def _states(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return run_plugin(compensate, {"latent_measurements": raw["latent_measurements"]}).output


def _render(raw: dict[str, pd.DataFrame], manifest: pd.DataFrame) -> list[np.ndarray]:
    inputs = {
        "predicted_states": _states(raw),
        "latent_measurements": raw["latent_measurements"],
        "video_manifest": manifest,
    }
    return list(run_plugin(render, inputs, {"width": 64, "height": 64, "workers": 1}).output)


def test_the_renderer_draws_a_shuffled_manifest_in_time_order(
    raw: dict[str, pd.DataFrame], caplog: pytest.LogCaptureFixture
) -> None:
    manifest = raw["video_manifest"].head(6)

    with caplog.at_level(logging.WARNING, logger="nexus.step"):
        shuffled = _render(raw, _reversed(manifest))
    in_order = _render(raw, manifest)

    assert all((a == b).all() for a, b in zip(shuffled, in_order, strict=True))
    assert any("video manifest is not in time order" in r.getMessage() for r in caplog.records)


SPANS = {
    "all-far-after": ([1e6, 1e6 + 0.1], "every frame of the video manifest lies outside the data"),
    "all-before": ([-50.0, -49.0], "every frame of the video manifest lies outside the data"),
    "infinite-time": ([0.0, np.inf], "row 2: t = inf"),
    "empty-times-only": ([np.nan, np.nan], "the video manifest has no complete row"),
}


@pytest.mark.parametrize(("times", "message"), SPANS.values(), ids=SPANS.keys())
def test_a_manifest_outside_the_data_is_refused(
    raw: dict[str, pd.DataFrame], times: list[float], message: str
) -> None:
    manifest = pd.DataFrame({"frame_index": range(len(times)), "t": times})

    with pytest.raises(DataError, match=message):
        _render(raw, manifest)


def test_a_manifest_partly_outside_the_data_draws_with_a_warning(
    raw: dict[str, pd.DataFrame], caplog: pytest.LogCaptureFixture
) -> None:
    manifest = pd.DataFrame({"frame_index": range(3), "t": [0.5, 1.0, 400.0]})

    with caplog.at_level(logging.WARNING, logger="nexus.step"):
        frames = _render(raw, manifest)

    assert len(frames) == 3
    assert any(
        "1 of 3 frames of the video manifest lie outside" in r.getMessage() for r in caplog.records
    )
