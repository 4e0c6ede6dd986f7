"""The demo's work without the framework: the same plugin functions and handlers, plainly called.

    python bench/direct_demo.py [PROJECT]     (default: this repository)

Reads the demo's raw data of PROJECT, writes predicted_states.parquet, frames/ and demo.mp4
into PROJECT/outputs/direct/<n>/, with the demo case's settings. No Hydra, no composition, no
validation of a plan, no manifest, no tracking: `bench/overhead.py` times this against
`python -m nexus case=demo tracking.enabled=false`.
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path

project = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
sys.path.insert(0, str(project))

from nexus.core.context import Metrics  # noqa: E402
from nexus.core.progress import Progress  # noqa: E402
from nexus.handlers import CsvHandler, FramesHandler, Mp4Handler, ParquetHandler  # noqa: E402
from plugins.demo.compensator import CompensatorConfig, compensate  # noqa: E402
from plugins.demo.renderer import RendererConfig, render  # noqa: E402
from plugins.demo.video import VideoConfig, create_video  # noqa: E402


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log = logging.getLogger("direct")
    raw = project / "cases" / "demo" / "raw_data"
    parent = project / "outputs" / "direct"
    parent.mkdir(parents=True, exist_ok=True)
    out = parent / str(len(list(parent.iterdir())))
    out.mkdir()
    tables = {name: CsvHandler().load(raw / f"{name}.csv") for name in _INPUTS}

    metrics = Metrics()
    states = compensate(
        CompensatorConfig(
            measurements=tables["latent_measurements"], ground_truth=tables["ground_truth"]
        ),
        log,
        metrics,
    )
    ParquetHandler().save(states, out / "predicted_states.parquet")

    renderer = RendererConfig(
        states=states,
        measurements=tables["latent_measurements"],
        frame_times=tables["video_manifest"],
        ground_truth=tables["ground_truth"],
    )
    fps = VideoConfig.model_fields["fps"].default
    # Older checkouts' renderer (NEXUS_BENCH_TREE) logs its own progress.
    reporting = "progress" in inspect.signature(render).parameters
    frames = render(renderer, log, *([Progress("Frame Renderer", log)] if reporting else []))
    FramesHandler().save(frames, out / "frames", video={"fps": fps})

    video = create_video(VideoConfig(frames=FramesHandler().load(out / "frames"), fps=fps), log)
    Mp4Handler().save(video, out / "demo.mp4")
    log.info("rmse %.4f; wrote %s", metrics["rmse"], out)


_INPUTS = ("latent_measurements", "ground_truth", "video_manifest")

if __name__ == "__main__":
    main()
