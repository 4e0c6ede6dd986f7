"""The framework's overhead: the demo through nexus against the same work in a plain script.

    python bench/overhead.py [--repeat N]

Both run in a temporary copy of the project, tracking off, alternately, N times (after one
warm-up each): `python -m nexus case=demo tracking.enabled=false` and
`python bench/direct_demo.py` (the same plugin functions and handlers, called directly).
Then `bench/framework_time.py` splits the framework's own time into its parts, in-process,
with the steps' imports done first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from common import PROJECT, clean_env, machine, nexus, repeat, run, scaled_project, spread

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    print(machine())
    with scaled_project() as project:
        through_nexus = nexus("case=demo", "tracking.enabled=false")
        direct = [sys.executable, str(HERE / "direct_demo.py"), str(project)]
        run(through_nexus, project), run(direct, project)  # warm-up: caches, .pyc files
        framework, plain = repeat(
            options.repeat, lambda: run(through_nexus, project), lambda: run(direct, project)
        )
        parts = [_framework_parts(project) for _ in range(options.repeat)]
    walls = [s.wall for s in framework], [s.wall for s in plain]
    difference = [a - b for a, b in zip(*walls, strict=True)]
    ratio = statistics.median(walls[0]) / statistics.median(walls[1])
    print(f"\n{'demo, tracking off':38s} wall s, median (min-max)   CPU s")
    print(f"{'python -m nexus case=demo':38s} {spread(walls[0]):26s} {_cpu(framework)}")
    print(f"{'bench/direct_demo.py (no framework)':38s} {spread(walls[1]):26s} {_cpu(plain)}")
    print(
        f"overhead: x{ratio:.2f}, {1000 * statistics.median(difference):.0f} ms (median of the "
        f"paired differences, {options.repeat} pairs)"
    )
    print("\nframework's own time in-process, the steps' imports done first (median ms):")
    print(f"  {'total (framework_s)':36s} {_ms(p['framework_s'] for p in parts)}")
    for name in parts[0]["parts_s"]:
        print(f"  {name:36s} {_ms(p['parts_s'].get(name, 0) for p in parts)}")
    print(f"  {'(steps, excluded)':36s} {_ms(p['steps_s'] for p in parts)}")
    print(f"  {'(imports the steps need, excluded)':36s} {_ms(p['step_imports_s'] for p in parts)}")


def _framework_parts(project: Path) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "framework_time.py"), str(project)],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=PROJECT,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cpu(samples: list) -> str:
    return f"{statistics.median(s.cpu for s in samples):.2f}"


def _ms(values) -> str:
    return f"{1000 * statistics.median(list(values)):6.0f}"


if __name__ == "__main__":
    main()
