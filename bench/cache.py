"""Incremental runs: a rerun, a 3-job fps sweep and the cache's own cost, against full runs.

    python bench/cache.py [--repeat N] [--scaled-repeat M]     (about 10 minutes)

The yardstick is a full demo run, `cache=false` (every step computed, nothing hashed or
recorded: the demo as before the cache), interleaved with what is measured, in one project:

- a rerun of the unchanged demo (every step reused);
- a 3-job `pipeline.fps` sweep after one full run (frames reused, only the Video Creator
  runs: it retimes the video encoded with the frames), and the same sweep encoding anew
  (the mp4 handler's `retime: false`, as before retiming existed), with the seconds of its
  encoding; new fps values each time, so that the videos are never reused;
- a run where every step misses (a new latency each time): the cache's own seconds on it
  (keys, hashing the inputs and outputs, records; `run.json`'s `cache.seconds_spent`)
  against the full run's wall time.

Then all of them once more with 10x the rows and 10x the frames (3,000 frames: each of
those runs takes minutes, so `--scaled-repeat` is 1 by default).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import machine, nexus, run, scaled_project, spread

OFF = ("case=demo", "tracking.enabled=false")
ENCODE = "+case.io_mapping.video.handler_args={retime: false}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scaled-repeat", type=int, default=1, help="0: skip the 10x project")
    options = parser.parse_args()
    print(machine())
    with scaled_project() as project:
        measure(project, options.repeat, "demo (1,800 rows, 300 frames)", sweep=True)
    if options.scaled_repeat < 1:
        return
    with scaled_project(rows=10, frames=10) as project:
        measure(project, options.scaled_repeat, "10x rows, 10x frames (18,000, 3,000)", sweep=True)


def measure(project: Path, repeat: int, title: str, sweep: bool) -> None:
    """Print the figures of one project: full runs interleaved with reruns, sweeps, misses."""
    run(nexus(*OFF), project)  # the first full run: what the rerun and the sweep reuse
    full, rerun, sweeps, encoded, encoding, spent, missed = [], [], [], [], [], [], []
    for i in range(repeat):
        full.append(run(nexus(*OFF, "cache=false"), project).wall)
        rerun.append(run(nexus(*OFF), project).wall)
        if sweep:
            rates = ",".join(str(11 + 6 * i + j) for j in range(3))
            sweeps.append(run(nexus(*OFF, f"pipeline.fps={rates}", "-m"), project).wall)
            rates = ",".join(str(14 + 6 * i + j) for j in range(3))
            encoded.append(run(nexus(*OFF, ENCODE, f"pipeline.fps={rates}", "-m"), project).wall)
            encoding.append(_newest_sweep_seconds(project, "Video Creator"))
        latency = f"pipeline.latency_to_compensate_s={0.15 + 0.01 * i:.2f}"
        missed.append(run(nexus(*OFF, latency), project).wall)
        spent.append(_newest_manifest(project)["cache"]["seconds_spent"])
    base = statistics.median(full)
    print(f"\n{title}, {repeat} repetitions, medians (min-max)")
    print(f"  full run (cache=false)            {spread(full)} s")
    ratio = statistics.median(rerun) / base
    print(f"  rerun, all reused                 {spread(rerun)} s = {ratio:.2f} full runs")
    if sweep:
        ratio = statistics.median(sweeps) / base
        print(f"  3-job fps sweep after a full run  {spread(sweeps)} s = {ratio:.2f} full runs")
        ratio = statistics.median(encoded) / base
        print(f"  the same, encoding (retime off)   {spread(encoded)} s = {ratio:.2f} full runs")
        floor = statistics.median(encoding) / base
        print(f"    of which encoding the 3 videos  {spread(encoding)} s = {floor:.2f} full runs")
    share = statistics.median(spent) / base
    print(f"  a run where every step misses     {spread(missed)} s")
    print(
        f"    the cache's own seconds in it   {spread(spent)} s = {100 * share:.1f} % of a full run"
    )


def _newest_sweep_seconds(project: Path, step: str) -> float:
    """The seconds `step` took in the jobs of the newest sweep, summed."""
    sweeps = sorted((project / "outputs" / "demo" / "sweeps").iterdir())
    jobs = [json.loads(p.read_text()) for p in sweeps[-1].glob("*/run.json")]
    return sum(s["seconds"] for job in jobs for s in job["steps"] if s["name"] == step)


def _newest_manifest(project: Path) -> dict:
    found = [json.loads(p.read_text()) for p in (project / "outputs" / "demo").glob("*/run.json")]
    return max(found, key=lambda m: m["started"])


if __name__ == "__main__":
    main()
