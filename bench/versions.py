"""Two versions of nexus side by side: the demo and an 8-job sweep, timed interleaved.

    python bench/versions.py BEFORE [--repeat N]        (about 10 minutes at N=5)

BEFORE is another checkout of this repository (e.g. `git worktree add /tmp/before <commit>`);
"after" is this checkout. Each version runs in its own temporary copy of the project (its own
conf/ and plugins/, the same raw data), from its own source (PYTHONPATH), tracking on with
the store existing (a first run makes it) and `cache=false`, so that every run computes every
step. The two alternate, round after round: load from elsewhere hits both alike. Printed:
each version's median (min-max), and the median of the paired differences after - before.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import PROJECT, Sample, clean_env, generate, machine, nexus, run, spread

DEMO = ("case=demo", "cache=false")
LATENCIES = "pipeline.latency_to_compensate_s=" + ",".join(f"{0.05 * i:.2f}" for i in range(1, 9))
SWEEP = (*DEMO, LATENCIES, "-m")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the other checkout")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    print(machine())
    print(f"before: {options.before.resolve()}\nafter:  {PROJECT}")
    with tempfile.TemporaryDirectory(prefix="nexus-bench-versions-") as scratch:
        trees = {"before": options.before.resolve(), "after": PROJECT}
        projects = {name: _project(tree, Path(scratch) / name) for name, tree in trees.items()}
        for what, args in (("demo", DEMO), ("8-job sweep", SWEEP)):
            timed = {name: _runner(trees[name], projects[name], args) for name in trees}
            for runner in timed.values():
                runner()  # warm: the store, the page cache
            samples: dict[str, list[Sample]] = {name: [] for name in trees}
            for _ in range(options.repeat):
                for name, runner in timed.items():
                    samples[name].append(runner())
            _report(what, samples)


def _project(tree: Path, folder: Path) -> Path:
    """A copy of `tree`'s conf/ and plugins/ with the demo case and its raw data."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(tree / "conf", folder / "conf")
    shutil.copytree(tree / "plugins", folder / "plugins", ignore=ignore)
    (folder / "cases" / "demo").mkdir(parents=True)
    shutil.copy(tree / "cases" / "demo" / "case.yaml", folder / "cases" / "demo")
    generate(folder / "cases" / "demo")
    return folder


def _runner(tree: Path, project: Path, args: tuple[str, ...]) -> Callable[[], Sample]:
    env = clean_env(PYTHONPATH=str(tree))
    return lambda: run(nexus(*args), project, env=env)


def _report(what: str, samples: dict[str, list[Sample]]) -> None:
    walls = {name: [s.wall for s in found] for name, found in samples.items()}
    cpus = {name: [s.cpu for s in found] for name, found in samples.items()}
    pairs = [a - b for a, b in zip(walls["after"], walls["before"], strict=True)]
    print(f"\n{what}, {len(pairs)} rounds, medians (min-max)")
    for name in ("before", "after"):
        cpu = statistics.median(cpus[name])
        print(f"  {name:<7} {spread(walls[name])} s wall, {cpu:.2f} s CPU")
    print(f"  after - before, paired: {spread(pairs)} s")


if __name__ == "__main__":
    main()
