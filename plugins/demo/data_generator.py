"""The demo's raw data: a curvy 2-D path, its late and noisy measurements, the video's clock.

Written twice: as three CSV files (case `demo`) and as one MCAP recording, `drive.mcap`, with
a topic each (case `demo_mcap`). The recording holds the values the CSV files give when read,
so both cases compute the same states.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from nexus import McapHandler, generator

__all__ = ["generate_demo_data", "true_position"]

SAMPLE_RATE_HZ = 180.0
DURATION_S = 10.0
LATENCY_S = 0.2  # each measurement describes where the object was this long before its stamp
NOISE_STD_M = 0.2  # per axis; small enough that a 0.2 s lag (1-3 m here) dominates the error
VIDEO_FPS = 30.0
SEED = 7

# The path: a figure eight (10 m x 6 m) traversed once in 10 s at a speed varying 4-14 m/s.
AMPLITUDE_M = (10.0, 6.0)
LOOP_HZ = 0.1
SPEED_SWING = 0.4  # how much the phase speeds up and slows down along the loop

RAW_DIR = "raw_data"
FLOAT_FORMAT = "%.6f"  # fixed text, so two generations give identical bytes
RECORDING = "drive.mcap"
#: The recording's clock: t = 0 is logged at 2026-01-01T00:00:00Z, in ns since the Unix epoch.
RECORDING_START_NS = 1_767_225_600_000_000_000
#: The topic of each CSV table in the recording.
TOPICS = {
    "latent_measurements.csv": "/measurements",
    "ground_truth.csv": "/ground_truth",
    "video_manifest.csv": "/camera_times",
}


def true_position(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The object's true (x, y) in metres at times `t` in seconds."""
    angle = 2 * np.pi * LOOP_HZ * t
    phase = angle + SPEED_SWING * np.sin(angle)
    return AMPLITUDE_M[0] * np.sin(phase), AMPLITUDE_M[1] * np.sin(2 * phase)


@generator(name="demo")
def generate_demo_data(
    case_dir: Path,
    duration_s: float = DURATION_S,
    sample_rate_hz: float = SAMPLE_RATE_HZ,
    video_fps: float = VIDEO_FPS,
) -> list[Path]:
    """Write ground truth, latent measurements and the video manifest into `case_dir/raw_data`.

    As CSV files, and as the topics of one MCAP recording, `drive.mcap`. The defaults make
    the demo (1,800 rows, 300 frames); the benchmarks scale them: rows are
    `sample_rate_hz * duration_s`, frames `video_fps * duration_s`.
    """
    if min(duration_s, sample_rate_hz, video_fps) <= 0:
        raise ValueError("duration_s, sample_rate_hz and video_fps must be positive")
    rng = np.random.default_rng(SEED)
    t = np.arange(round(sample_rate_hz * duration_s)) / sample_rate_hz
    x, y = true_position(t)
    late_x, late_y = true_position(t - LATENCY_S)
    noise = rng.normal(0.0, NOISE_STD_M, size=(2, t.size))
    frame_index = np.arange(round(video_fps * duration_s))
    tables = {
        "ground_truth.csv": pd.DataFrame({"t": t, "x": x, "y": y}),
        "latent_measurements.csv": pd.DataFrame(
            {"t": t, "x": late_x + noise[0], "y": late_y + noise[1]}
        ),
        "video_manifest.csv": pd.DataFrame(
            {"frame_index": frame_index, "t": frame_index / video_fps}
        ),
    }
    out_dir = Path(case_dir) / RAW_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [_write_atomically(table, out_dir / name) for name, table in tables.items()]
    return [*written, _write_recording(written, out_dir / RECORDING)]


def _write_recording(tables: list[Path], path: Path) -> Path:
    """The CSV tables, as read back, as one MCAP recording: a JSON topic each, t as log time."""
    topics = {TOPICS[table.name]: pd.read_csv(table) for table in tables}
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        McapHandler().save(topics, partial, start_ns=RECORDING_START_NS)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _write_atomically(table: pd.DataFrame, path: Path) -> Path:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        table.to_csv(partial, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path
