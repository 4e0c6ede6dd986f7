"""Scaling: wall time and peak memory of the demo with x1/x10/x100 rows and x1/x10 frames.

    python bench/scaling.py [--repeat N]

Each size runs `python -m nexus case=demo tracking.enabled=false` in its own temporary
project, N times (medians). Rows xR: a recording R times as long at the same 180 Hz, with
the same 300 frames spread over it; frames xF: F times as many frames of the 10 s. Peak
memory: the largest single process (ru_maxrss), and the whole process tree's largest PSS
sum (nexus, its render workers, ffmpeg), sampled every 20 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import (
    DEMO_FRAMES,
    DEMO_ROWS,
    machine,
    median_samples,
    nexus,
    run,
    scaled_project,
    spread,
)

SIZES = [(1, 1), (10, 1), (100, 1), (1, 10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    print(machine())
    print(
        f"\n{'rows':>9s} {'frames':>7s}  {'wall s, median (min-max)':25s} {'CPU s':>6s} "
        f"{'peak MB':>8s} {'tree MB':>8s}  {'render+encode fps':>17s}"
    )
    for rows, frames in SIZES:
        with scaled_project(rows, frames) as project:
            command = nexus("case=demo", "tracking.enabled=false")
            run(command, project)  # warm-up
            samples = [run(command, project, sample_memory=True) for _ in range(options.repeat)]
            fps = statistics.median(_render_fps(p) for p in _runs(project)[1:])
        middle = median_samples(samples)
        print(
            f"{DEMO_ROWS * rows:>9,} {DEMO_FRAMES * frames:>7,}  "
            f"{spread([s.wall for s in samples]):25s} {middle.cpu:6.2f} "
            f"{middle.peak_mb:8.0f} {middle.peak_tree_mb:8.0f}  {fps:17.0f}"
        )


def _runs(project: Path) -> list[Path]:
    return sorted(p for p in (project / "outputs" / "demo").iterdir() if p.name != "sweeps")


def _render_fps(run_dir: Path) -> float:
    """Frames per second of the Frame Renderer step (drawing, PNG writing, encoding)."""
    manifest = json.loads((run_dir / "run.json").read_text())
    step = next(s for s in manifest["steps"] if s["name"] == "Frame Renderer")
    frames = len(list((run_dir / "frames").glob("*.png")))
    return frames / step["seconds"]


if __name__ == "__main__":
    main()
