"""What each speed-up of `nexus.cli.speedups` buys: the demo with all on, all off, each off.

    python bench/speedups.py [--repeat N] [--sweep]

In a temporary copy of the project, tracking on, the store existing (a first run makes it).
The variants run interleaved, N rounds, so that load from elsewhere hits them alike; each
variant's figure is the median of its paired differences against "all on" in the same round.
`--sweep` adds an 8-job sweep (basic launcher), all on against all off.
"""

from __future__ import annotations

import argparse
import statistics

from common import clean_env, machine, nexus, repeat, run, scaled_project, spread

VARIANTS = {
    "all on": "",
    "all off (NEXUS_NO_SPEEDUPS=1)": "1",
    "helper off": "helper",
    "fast exit off": "fast_exit",
    "gc freeze off": "gc_freeze",
}
LATENCIES = "pipeline.latency_to_compensate_s=" + ",".join(f"{0.05 * i:.2f}" for i in range(1, 9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sweep", action="store_true")
    options = parser.parse_args()
    print(machine())
    with scaled_project() as project:
        run(nexus("case=demo"), project)  # creates mlflow.db and the experiment

        def variant(switch: str, *args: str):
            env = clean_env(NEXUS_NO_SPEEDUPS=switch) if switch else clean_env()
            return lambda: run(nexus("case=demo", *args), project, env=env)

        results = repeat(options.repeat, *(variant(v) for v in VARIANTS.values()))
        base = results[0]
        print(f"\n{'demo, tracking on':32s} wall s, median (min-max)  CPU s  vs all on (paired)")
        for name, samples in zip(VARIANTS, results, strict=True):
            paired = [s.wall - b.wall for s, b in zip(samples, base, strict=True)]
            cpu = statistics.median(s.cpu for s in samples)
            print(
                f"{name:32s} {spread([s.wall for s in samples]):26s} {cpu:5.2f}  "
                f"{statistics.median(paired):+.2f} s"
            )
        if options.sweep:
            on, off = repeat(1, variant("", LATENCIES, "-m"), variant("1", LATENCIES, "-m"))
            print(f"{'8-job sweep, all on':32s} {on[0].wall:.2f}")
            print(f"{'8-job sweep, all off':32s} {off[0].wall:.2f}")


if __name__ == "__main__":
    main()
