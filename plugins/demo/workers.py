"""The frames of a scene drawn in this process or by worker processes, yielded in order.

The advanced part of the demo, for speed only: a plugin needs nothing like it, and the
Frame Renderer draws the same frames in its own process with `workers=1`. No plugin here.

Each worker builds its own `Canvas` once and draws chunks of consecutive frames into a ring
of shared memory (sending frames through pipes costs as much as drawing them). At most
`2 * workers` chunks are in flight, so memory does not grow with the number of frames,
however slowly they are consumed.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import deque
from collections.abc import Generator, Iterator
from itertools import islice

import numpy as np

from nexus import end_with_parent

from .canvas import Canvas, Scene, import_matplotlib

__all__ = ["available_cores", "draw_frames", "parallel_supported"]

CHUNK = 8  # frames per task: large enough to amortise a task, small enough to balance

# A worker process's scene, view of the shared ring, and canvas (made on its first chunk).
_scene: Scene | None = None
_ring: np.ndarray | None = None
_canvas: Canvas | None = None


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def parallel_supported() -> bool:
    """Workers are forked, sharing this process's memory and imports: Linux only."""
    return sys.platform == "linux"


def draw_frames(scene: Scene, workers: int) -> Generator[np.ndarray, None, None]:
    """Yield the scene's frames in order, drawn by `workers` processes (1: in this process)."""
    workers = min(workers, -(-len(scene) // CHUNK))  # no idle workers for short scenes
    if workers <= 1 or not parallel_supported():
        canvas = Canvas(scene)
        for index in range(len(scene)):
            yield canvas.draw(index)
        return
    chunks = _in_workers(scene, workers)
    try:
        for chunk in chunks:
            yield from chunk
    finally:
        chunks.close()  # now, also when our consumer stops early: the workers exit


def _in_workers(scene: Scene, workers: int) -> Iterator[np.ndarray]:
    """Chunks of frames, each an (n, H, W, 3) array of its own, in order."""
    import mmap
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import_matplotlib()  # before forking: the workers inherit it, none imports it again
    slots = 2 * workers
    shape = (slots, CHUNK, scene.height, scene.width, 3)
    shared = mmap.mmap(-1, int(np.prod(shape)))  # anonymous and shared: forked workers see it
    ring = np.frombuffer(shared, dtype=np.uint8).reshape(shape)
    starts = iter(range(0, len(scene), CHUNK))
    # A worker that dies (killed, out of memory) breaks the pool: get() raises, never hangs.
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(scene, ring),
    )
    try:
        pending = deque(
            (slot, pool.submit(_draw_chunk, start, slot))
            for slot, start in enumerate(islice(starts, slots))
        )
        while pending:
            slot, drawn = pending.popleft()
            chunk = ring[slot, : drawn.result()].copy()  # the slot is reused right away
            start = next(starts, None)
            if start is not None:
                pending.append((slot, pool.submit(_draw_chunk, start, slot)))
            yield chunk
    finally:
        # The end, an error, or the consumer closing us: chunks not started are dropped, the
        # ones being drawn (tens of ms) finish, the workers exit.
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(scene: Scene, ring: np.ndarray) -> None:
    # Little here can fail; the canvas is made by the first chunk, whose errors reach get().
    global _scene, _ring
    # The parent handles Ctrl-C and SIGTERM, then terminates its workers: quietly. If it is
    # killed outright, nobody would: the kernel ends them then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    end_with_parent()
    _scene, _ring = scene, ring


def _draw_chunk(start: int, slot: int) -> int:
    """Draw the frames from `start` on into ring slot `slot`; returns how many."""
    global _canvas
    if _scene is None or _ring is None:
        raise RuntimeError("_draw_chunk runs in a worker started by _start_worker")
    if _canvas is None:
        _canvas = Canvas(_scene)  # here, so that its errors reach the parent through get()
    stop = min(start + CHUNK, len(_scene))
    for offset, index in enumerate(range(start, stop)):
        _canvas.draw(index, out=_ring[slot, offset])
    return stop - start
