"""Content hashes, the stat memo, placing a record's outputs, and the per-key lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nexus.run.cache.hashing import HashMemo, content_hash, file_hash
from nexus.run.cache.store import Index, check, place, protect


def _frames(folder: Path, count: int = 3) -> Path:
    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"frame_{index:05d}.png").write_bytes(bytes([index]) * (100 + index))
    (folder / ".video-x.mp4").write_bytes(b"video")
    return folder


def test_a_directory_hashes_as_its_sorted_files_with_hidden_ones_and_without_partials(
    tmp_path: Path,
) -> None:
    one = _frames(tmp_path / "one")
    two = _frames(tmp_path / "two")
    (two / ".partial-1234.frame_00009.png").write_bytes(b"half")
    digest, files = content_hash(one)
    assert content_hash(two)[0] == digest
    assert [f.path for f in files] == [".video-x.mp4", *(f"frame_{i:05d}.png" for i in range(3))]
    (two / ".video-x.mp4").write_bytes(b"other")
    assert content_hash(two)[0] != digest
    (two / ".video-x.mp4").write_bytes(b"video")
    (two / "frame_00001.png").rename(two / "frame_00003.png")
    assert content_hash(two)[0] != digest


def test_the_memo_skips_rehashing_but_never_trusts_a_fresh_file(tmp_path: Path) -> None:
    old, fresh = tmp_path / "old.csv", tmp_path / "fresh.csv"
    old.write_text("a,b\n1,2\n")
    fresh.write_text("a,b\n3,4\n")
    past = time.time() - 60
    os.utime(old, (past, past))
    memo = HashMemo.load(tmp_path / "memo.json")
    assert memo.hash(old).hash == file_hash(old)
    assert memo.hash(fresh).hash == file_hash(fresh)
    memo.save()
    again = HashMemo.load(tmp_path / "memo.json")
    assert set(again.known) == {str(old)}
    again.known[str(old)][3] = "remembered"  # proves the memo, not the bytes, answered
    assert again.hash(old).hash == "remembered"
    old.write_text("a,b\n1,3\n")  # same size, new mtime: hashed again
    assert again.hash(old).hash == file_hash(old)


def _record(run: Path) -> dict:
    _, files = content_hash(run / "frames")
    return {
        "run_dir": str(run),
        "run": run.name,
        "outputs": {
            "frames": {
                "path": "frames",
                "hash": "h",
                "handler": "frames",
                "files": [[f.path, f.size, f.mtime_ns, f.hash] for f in files],
            }
        },
    }


def test_placing_hard_links_read_only_files_and_keeps_their_mtimes(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    frames = _frames(origin / "frames")
    record = _record(origin)
    _, files = content_hash(frames)
    protect(frames, files)
    new_run = tmp_path / "new"
    new_run.mkdir()

    how = place(record, new_run)

    assert how in ("reflink", "hardlink")
    for name in os.listdir(frames):
        placed, source = new_run / "frames" / name, frames / name
        assert not placed.is_symlink()
        assert placed.read_bytes() == source.read_bytes()
        assert placed.stat().st_mtime_ns == source.stat().st_mtime_ns
        assert not os.access(placed, os.W_OK) or os.geteuid() == 0
        assert placed.stat().st_mode & 0o222 == 0
    assert not list(new_run.glob(".partial-*"))


def test_a_changed_or_missing_origin_file_is_a_reason_not_an_error(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    frames = _frames(origin / "frames")
    record = _record(origin)
    assert check(record) is None
    later = time.time() + 5
    os.utime(frames / "frame_00001.png", (later, later))
    assert "frame_00001.png" in (check(record) or "")
    (frames / "frame_00001.png").unlink()
    assert "gone" in (check(record) or "")


def test_records_of_deleted_runs_are_pruned_when_read(tmp_path: Path) -> None:
    index = Index(tmp_path / "outputs")
    kept, deleted = tmp_path / "outputs" / "demo" / "a", tmp_path / "outputs" / "demo" / "b"
    kept.mkdir(parents=True)
    deleted.mkdir(parents=True)
    for run in (kept, deleted):
        index.publish("Frame Renderer", "k1", run, {"run_dir": str(run), "created": 1.0})
    deleted.rmdir()
    assert [r["run_dir"] for r in list(index.holders("Frame Renderer", "k1"))] == [str(kept)]
    assert len(list((index.root / "entries").rglob("*.json"))) == 1


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from nexus.run.cache.store import Index
with Index(Path(sys.argv[1])).lock("k1", "Frame Renderer", "job 0 (pid 1)"):
    print("locked", flush=True)
    time.sleep(1.5)
"""


def test_a_second_job_waits_for_the_lock_and_is_told_who_holds_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    started = time.perf_counter()
    with (
        caplog.at_level("INFO", "nexus.run.cache"),
        Index(tmp_path).lock("k1", "Frame Renderer", "me"),
    ):
        waited = time.perf_counter() - started
    holder.wait(timeout=10)
    assert waited > 0.5
    assert "waiting for job 0 (pid 1)" in caplog.text


def test_without_locks_the_step_is_computed_all_the_same(tmp_path: Path) -> None:
    index = Index(tmp_path / "outputs")
    index.root.mkdir(parents=True)
    (index.root / "locks").write_text("a file where the lock folder should be")
    entered = False
    with index.lock("k1", "Frame Renderer", "me"):  # no lock to take: computes, publishes
        entered = True
    assert entered
