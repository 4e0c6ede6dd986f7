"""The console's cost: what importing nexus, a step's live line and a sweep's table take.

    python bench/console.py BEFORE_TREE [--repeat N]

Each figure is taken in a new interpreter, alternately from BEFORE_TREE (a checkout, e.g.
`mkdir /tmp/before && git archive df59dcc | tar -x -C /tmp/before`) and from this one, with
`python -X importtime` for the imports; medians of N. Hydra, pandas and pydantic are imported
first where a job would have them already, so only what the console adds is counted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from common import PROJECT, machine

JOB = (
    "import hydra.core.hydra_config, omegaconf, pandas, pydantic, numpy, nexus, nexus.run.runner\n"
)
LIVE_LINE = """
import io, logging, time
from nexus.core.progress import Progress
class Terminal(io.StringIO):
    def isatty(self): return True
started, cpu = time.perf_counter(), time.process_time()
list(Progress("step", logging.getLogger("x"), Terminal(), live=True).track(range(300)))
print("WALL", time.perf_counter() - started, time.process_time() - cpu)
"""
TABLE = """
import time
from pathlib import Path
from nexus.app.sweeps import SweepJob
started, cpu = time.perf_counter(), time.process_time()
jobs = [SweepJob(i, Path(str(i)), "completed", {"pipeline.x": str(i)}, {"rmse": 0.5}, "")
        for i in range(8)]
try:
    from nexus.app.sweep_console import print_table
    print_table(jobs, Path("."), ["pipeline.x"], ["rmse"])
except ImportError:  # before: the table was drawn by hand
    from nexus.app.sweeps import format_table
    print(format_table(jobs, Path(".")))
print("WALL", time.perf_counter() - started, time.process_time() - cpu)
"""
CASES = {
    "import nexus (what every command loads)": (
        "import time\nstarted, cpu = time.perf_counter(), time.process_time()\nimport nexus\n"
        "print('WALL', time.perf_counter() - started, time.process_time() - cpu)\n",
        "nexus",
    ),
    "a step's live line on a terminal, 300 items": (JOB + LIVE_LINE, "rich"),
    "a sweep's table, 8 jobs": (JOB + "import nexus.app.sweeps\n" + TABLE, "rich"),
}
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$")


def measure(tree: Path, code: str, prefix: str) -> tuple[float, float, float]:
    """ms importing top-level modules named `prefix*`; wall and CPU ms of the timed part."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=True,
    )
    imports = 0
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if match and match.group(2).split(".")[0] == prefix:  # top level: no indentation
            imports += int(match.group(1))
    wall, cpu = re.search(r"^WALL (\S+) (\S+)$", done.stdout, re.MULTILINE).groups()
    return imports / 1000, float(wall) * 1000, float(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("--repeat", type=int, default=9)
    options = parser.parse_args()
    print(machine())
    trees = {"before": options.before.resolve(), "now": PROJECT}
    print(f"\n{'ms, median (min-max)':44s} {'tree':7s} {'imports':20s} {'wall':20s} CPU")
    for name, (code, prefix) in CASES.items():
        for tree in trees.values():
            measure(tree, code, prefix)  # warm-up: .pyc files, page cache
        samples: dict[str, list[tuple[float, float, float]]] = {label: [] for label in trees}
        for _ in range(options.repeat):  # interleaved: load from elsewhere hits both alike
            for label, tree in trees.items():
                samples[label].append(measure(tree, code, prefix))
        for label, values in samples.items():
            imports, wall, cpu = ([v[i] for v in values] for i in range(3))
            figures = " ".join(f"{_spread(v):20s}" for v in (imports, wall, cpu))
            print(f"{name:44s} {label:7s} {figures}".rstrip())
            name = ""


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} ({min(values):.1f}-{max(values):.1f})"


if __name__ == "__main__":
    main()
