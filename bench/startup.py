"""Start-up: `python -m nexus --help` and `python -m nexus case=demo --cfg job`.

    python bench/startup.py [--repeat N]

In a temporary copy of the project, alternately, N times; `python -c pass` and the bare
imports are the floor no command can go below.
"""

from __future__ import annotations

import argparse
import sys

from common import machine, nexus, repeat, run, scaled_project, spread

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import nexus'": [sys.executable, "-c", "import nexus"],
    "python -c 'import hydra, pandas'": [sys.executable, "-c", "import hydra, pandas"],
    "python -m nexus --help": nexus("--help"),
    "python -m nexus case=demo --help": nexus("case=demo", "--help"),
    "python -m nexus case=demo --cfg job": nexus("case=demo", "--cfg", "job"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    options = parser.parse_args()
    print(machine())
    with scaled_project() as project:
        for args in COMMANDS.values():
            run(args, project)  # warm-up: .pyc files, page cache
        results = repeat(options.repeat, *(lambda a=a: run(a, project) for a in COMMANDS.values()))
    print(f"\n{'command':38s} wall s, median (min-max)")
    for name, samples in zip(COMMANDS, results, strict=True):
        print(f"{name:38s} {spread([s.wall for s in samples])}")


if __name__ == "__main__":
    main()
