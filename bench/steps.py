"""Each step's throughput, in-process: compensator rows/s, renderer, PNG writer, encoder frames/s.

    python bench/steps.py [--repeat N] [--only compensator|renderer|png|encoder]

Medians of N runs. The renderer is timed on the demo's 300 frames of trajectories 1x, 10x
and 100x as long (same sampling rate; frames spread over the recording), and 10x as dense
(the same 10 s sampled at 1,800 Hz: 10x the points inside each frame's trail).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import TREE, machine

sys.path.insert(0, str(TREE))  # NEXUS_BENCH_TREE=<checkout> measures that checkout's steps

import numpy as np
import pandas as pd

from nexus.core.context import Metrics
from nexus.core.progress import Progress
from nexus.handlers import FrameSequence, FramesHandler, Mp4Handler
from plugins.demo import data_generator as demo
from plugins.demo.compensator import CompensatorConfig, compensate
from plugins.demo.renderer import RendererConfig, render

log = logging.getLogger("bench")


def timed(repeat: int, work: Callable[[], object]) -> float:
    """Median seconds of `work()`."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def recording(seconds: float, rate_hz: float, frames: int) -> dict[str, pd.DataFrame]:
    """The demo's tables for a recording of `seconds` at `rate_hz`, with `frames` frames."""
    rng = np.random.default_rng(demo.SEED)
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    x, y = demo.true_position(t)
    late_x, late_y = demo.true_position(t - demo.LATENCY_S)
    noise = rng.normal(0.0, demo.NOISE_STD_M, size=(2, t.size))
    return {
        "truth": pd.DataFrame({"t": t, "x": x, "y": y}),
        "measured": pd.DataFrame({"t": t, "x": late_x + noise[0], "y": late_y + noise[1]}),
        "frames": pd.DataFrame({"t": np.arange(frames) * seconds / frames}),
    }


def compensator(repeat: int) -> None:
    print("\nLatency Compensator (rolling least squares), rows/s")
    for rows in (1_800, 18_000, 180_000, 1_800_000):
        tables = recording(rows / demo.SAMPLE_RATE_HZ, demo.SAMPLE_RATE_HZ, 1)
        config = CompensatorConfig(measurements=tables["measured"], ground_truth=tables["truth"])
        seconds = timed(repeat, functools.partial(compensate, config, log, Metrics()))
        print(f"  {rows:>9,} rows  {1000 * seconds:8.1f} ms  {rows / seconds:>12,.0f} rows/s")


def renderer(repeat: int) -> None:
    parallel = "workers" in RendererConfig.model_fields  # not in older checkouts
    cores = len(os.sched_getaffinity(0)) if parallel else 1
    print("\nFrame Renderer, 300 frames 640x480: frames/s of the whole step (set-up and workers'")
    print("start included), and ms a frame once started (frames 2-300, the frame cost)")
    print(f"  {'trajectory':38s} {'workers=1':>16s} {f'workers={cores}':>16s}")
    cases = {
        "1x (10 s at 180 Hz, 1,800 rows)": (10, 180),
        "10x as long (100 s, 18,000 rows)": (100, 180),
        "100x as long (1,000 s, 180,000 rows)": (1000, 180),
        "10x as dense (10 s at 1,800 Hz)": (10, 1800),
    }
    for name, (seconds, rate) in cases.items():
        tables = recording(seconds, rate, 300)
        states = compensate(CompensatorConfig(measurements=tables["measured"]), log, Metrics())
        shown = []
        for workers in (1, cores):
            config = RendererConfig(
                states=states,
                measurements=tables["measured"],
                frame_times=tables["frames"],
                ground_truth=tables["truth"],
                **({"workers": workers} if parallel else {}),
            )
            runs = [_render_once(config) for _ in range(repeat)]
            whole = statistics.median(r[0] for r in runs)
            frame = statistics.median(r[1] for r in runs)
            shown.append(f"{300 / whole:5.0f}/s {1000 * frame:5.2f} ms")
        print(f"  {name:38s} {shown[0]:>16s} {shown[1]:>16s}")


def _render_once(config: RendererConfig) -> tuple[float, float]:
    """(seconds for all 300 frames, seconds a frame after the first)."""
    started = time.perf_counter()
    frames = render(config, log, Progress("Frame Renderer", log))
    next(frames)
    first = time.perf_counter()
    count = 1 + sum(1 for _ in frames)
    done = time.perf_counter()
    return done - started, (done - first) / (count - 1)


def demo_frames() -> list[np.ndarray]:
    tables = recording(demo.DURATION_S, demo.SAMPLE_RATE_HZ, 300)
    states = compensate(CompensatorConfig(measurements=tables["measured"]), log, Metrics())
    config = RendererConfig(
        states=states,
        measurements=tables["measured"],
        frame_times=tables["frames"],
        ground_truth=tables["truth"],
    )
    return [frame.copy() for frame in render(config, log, Progress("Frame Renderer", log))]


def png(repeat: int, frames: list[np.ndarray]) -> None:
    from PIL import Image

    print("\nPNG writing, 300 frames 640x480 to disk, frames/s and size per frame")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder)

        def pillow(level: int) -> None:
            for index, frame in enumerate(frames):
                Image.fromarray(frame).save(target / f"p{index}.png", compress_level=level)

        def fast(level: int) -> None:
            FramesHandler().save(frames, target / "f", compress_level=level)

        for level in (0, 1, 6):
            for name, work in (("Pillow, one at a time", pillow), ("frames handler", fast)):

                def once(work: Callable[[int], None] = work, level: int = level) -> None:
                    for old in target.rglob("*.png"):
                        old.unlink()
                    if (target / "f").exists():
                        (target / "f").rmdir()
                    work(level)

                seconds = timed(repeat, once)
                size = sum(p.stat().st_size for p in target.rglob("*.png")) / len(frames)
                print(
                    f"  level {level}  {name:22s} {len(frames) / seconds:6.0f} frames/s"
                    f"  {size / 1024:6.0f} KB"
                )
    try:
        from nexus.handlers.png import encode_png
    except ImportError:  # an older checkout
        return
    one = timed(repeat, lambda: [encode_png(f, 1) for f in frames[:100]]) / 100
    print(f"  encode_png alone, level 1: {1000 * one:.2f} ms a frame")


def encoder(repeat: int, frames: list[np.ndarray]) -> None:
    print("\nmp4 encoding (x264 crf 20), 300 frames 640x480, frames/s")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder)
        FramesHandler().save(frames, target / "frames")
        sequence = FrameSequence(target / "frames")
        ways: dict[str, Callable[[str], None]] = {
            "raw frames from memory": lambda p: Mp4Handler().save(
                frames, target / "a.mp4", preset=p
            ),
            "PNG files to ffmpeg, undecoded": lambda p: Mp4Handler().save(
                sequence, target / "b.mp4", preset=p
            ),
            "PNG files decoded by Pillow (before)": lambda p: Mp4Handler().save(
                iter(sequence), target / "c.mp4", preset=p
            ),
        }
        for preset in ("medium", "veryfast"):
            for name, way in ways.items():
                seconds = timed(repeat, functools.partial(way, preset))
                print(f"  {preset:8s} {name:38s} {len(frames) / seconds:6.0f} frames/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=("compensator", "renderer", "png", "encoder"))
    options = parser.parse_args()
    print(machine())
    if options.only in (None, "compensator"):
        compensator(options.repeat)
    if options.only in (None, "renderer"):
        renderer(options.repeat)
    if options.only in (None, "png", "encoder"):
        frames = demo_frames()
        if options.only in (None, "png"):
            png(options.repeat, frames)
        if options.only in (None, "encoder"):
            encoder(options.repeat, frames)


if __name__ == "__main__":
    main()
