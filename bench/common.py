"""What the benchmarks share: timing a command, its peak memory, scaled projects, the machine.

Not a benchmark itself. Every script runs from anywhere: `python bench/NAME.py`.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
# Another checkout to measure instead (e.g. the commit before a change); its nexus package is
# put first on PYTHONPATH and its conf/, plugins/ and demo case are copied. The raw data is
# made by this checkout's generator either way.
TREE = Path(os.environ.get("NEXUS_BENCH_TREE", PROJECT)).resolve()
DEMO_ROWS, DEMO_FRAMES = 1800, 300


@dataclass(frozen=True)
class Sample:
    """One run of a command: wall and CPU seconds, peak memory in MB.

    `peak_mb` is the largest resident set of any one process of the run (the kernel's
    ru_maxrss); `peak_tree_mb` the largest sum over the whole process tree at one moment
    (nexus, its render workers and ffmpeg; PSS, so shared pages count once), sampled
    every 20 ms.
    """

    wall: float
    cpu: float
    peak_mb: float
    peak_tree_mb: float


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without settings that would send runs elsewhere."""
    unwanted = ("MLFLOW_TRACKING_URI", "HYDRA_FULL_ERROR", "NEXUS_BENCH_TREE")
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    if TREE != PROJECT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TREE), env.get("PYTHONPATH")]))
    return {**env, **extra}


def run(
    args: Sequence[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    sample_memory: bool = False,
) -> Sample:
    """Run `args` in `cwd` to the end; a RuntimeError with its stderr when it fails.

    `sample_memory` polls the process tree's memory every 20 ms (`Sample.peak_tree_mb`, else
    0): reading /proc for every process costs CPU that the run would otherwise have, so it is
    only for the figures about memory.
    """
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(args), cwd=cwd, env=env or clean_env(), stdout=subprocess.DEVNULL, stderr=errors
        )
        sampler = _TreeSampler(process.pid)
        if sample_memory:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped above, not by Popen
        sampler.stop()
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(args)} failed:\n{errors.read().decode()[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime  # includes the children it waited for (ffmpeg, workers)
    return Sample(wall, cpu, usage.ru_maxrss / 1024, sampler.peak_kb / 1024)


def nexus(*args: str) -> list[str]:
    """The command line of `python -m nexus ARGS`."""
    return [sys.executable, "-m", "nexus", *args]


class _TreeSampler(threading.Thread):
    """The peak of the summed RSS of a process and its descendants, polled from /proc."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))

    def stop(self) -> None:
        self._done.set()
        if self.ident is not None:  # started
            self.join()


def _tree_rss_kb(root: int) -> int:
    """Summed PSS (shared pages split between their users, so forked workers count once)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    tree, frontier = {root}, {root}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - tree
        tree |= frontier
    return sum(_pss_kb(pid) for pid in tree)


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


def median_samples(samples: Sequence[Sample]) -> Sample:
    """Each field's median."""
    return Sample(
        *(statistics.median(getattr(s, f) for s in samples) for f in Sample.__dataclass_fields__)
    )


def repeat(count: int, *commands: Callable[[], Sample]) -> list[list[Sample]]:
    """Run the commands `count` times, interleaved, so that load from elsewhere hits all alike."""
    results: list[list[Sample]] = [[] for _ in commands]
    for _ in range(count):
        for result, command in zip(results, commands, strict=True):
            result.append(command())
    return results


def spread(values: Sequence[float]) -> str:
    """'median (min-max)'."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


@contextlib.contextmanager
def scaled_project(rows: float = 1, frames: float = 1, keep: bool = False) -> Iterator[Path]:
    """A temporary copy of this project (conf, plugins, the demo case) with scaled raw data.

    rows x R: a recording R times as long at the same 180 Hz (a longer trajectory);
    frames x F: F times as many frames of it. So rows x10 at frames x1 renders 300 frames
    spread over 100 s.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"nexus-bench-r{rows:g}-f{frames:g}-"))
    try:
        shutil.copytree(TREE / "conf", folder / "conf")
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(TREE / "plugins", folder / "plugins", ignore=ignore)
        (folder / "cases" / "demo").mkdir(parents=True)
        shutil.copy(TREE / "cases" / "demo" / "case.yaml", folder / "cases" / "demo")
        generate(folder / "cases" / "demo", rows, frames)
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def generate(case_dir: Path, rows: float = 1, frames: float = 1) -> None:
    """The demo's raw data in `case_dir`, scaled as `scaled_project` says."""
    sys.path.insert(0, str(PROJECT))
    try:
        from plugins.demo import data_generator as demo
    finally:
        sys.path.remove(str(PROJECT))
    duration = demo.DURATION_S * rows
    demo.generate_demo_data(case_dir, duration_s=duration, video_fps=demo.VIDEO_FPS * frames / rows)


def machine() -> str:
    """One line on where the figures come from (and which code), with the load at the time."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.machine()} {cores} cores, {memory_gb:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average {load}"
        + ("" if TREE == PROJECT else f"\nmeasuring the checkout {TREE}")
    )


def children_cpu() -> float:
    """CPU seconds used by this process and its waited-for children so far."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
