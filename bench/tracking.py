"""Wall time of the demo with and without tracking, and of an 8-job sweep per launcher.

    python bench/tracking.py [--repeat N] [--sweep-repeat M] [--skip-sweeps]

In a temporary copy of the project. A first run creates the tracking store (mlflow.db), timed
once; then the demo runs N times with tracking on and N times off, alternately, so the
figures are for a store that exists, as after a user's first run. The sweeps (tracking on)
run 8 jobs over pipeline.latency_to_compensate_s, with Hydra's basic launcher (one job after
the other) and with the joblib launcher (one job per core at a time), the latter also with
one render worker per job (each job's renderer otherwise forks one per core).
"""

from __future__ import annotations

import argparse
import statistics

from common import machine, nexus, repeat, run, scaled_project, spread

LATENCIES = "pipeline.latency_to_compensate_s=" + ",".join(f"{0.05 * i:.2f}" for i in range(1, 9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sweep-repeat", type=int, default=1)
    parser.add_argument("--skip-sweeps", action="store_true")
    options = parser.parse_args()
    print(machine())
    with scaled_project() as project:
        first = run(nexus("case=demo"), project)  # creates mlflow.db and the experiment
        on, off = repeat(
            options.repeat,
            lambda: run(nexus("case=demo"), project),
            lambda: run(nexus("case=demo", "tracking.enabled=false"), project),
        )
        paired = [a.wall - b.wall for a, b in zip(on, off, strict=True)]
        print(f"\n{'':40s} wall s, median (min-max)   CPU s")
        print(f"{'first demo run, creating the store':40s} {first.wall:.2f}")
        print(f"{'demo run, tracking on':40s} {spread([s.wall for s in on]):26s} {_cpu(on)}")
        print(f"{'demo run, tracking off':40s} {spread([s.wall for s in off]):26s} {_cpu(off)}")
        print(
            f"tracking adds {statistics.median(paired):.2f} s (median of {options.repeat} paired "
            "differences)"
        )
        if options.skip_sweeps:
            return
        sweeps = {
            "basic launcher": ["-m"],
            "joblib launcher": ["hydra/launcher=joblib", "-m"],
            "joblib, pipeline.workers=1": ["hydra/launcher=joblib", "pipeline.workers=1", "-m"],
        }
        for name, flags in sweeps.items():
            command = nexus("case=demo", LATENCIES, *flags)
            try:
                walls = [run(command, project).wall for _ in range(options.sweep_repeat)]
            except RuntimeError as exc:  # e.g. an older checkout without pipeline.workers
                print(f"{f'8-job sweep, {name}':40s} failed: {str(exc).splitlines()[-1]}")
                continue
            print(f"{f'8-job sweep, {name}':40s} {spread(walls)}")


def _cpu(samples: list) -> str:
    return f"{statistics.median(s.cpu for s in samples):.2f}"


if __name__ == "__main__":
    main()
