"""Recordings: one small topic of a large recording, its peak memory and time, per format.

    python bench/recordings.py [--size-mb 1024] [--repeat 3] [--formats mcap,rosbag,hdf5]

Writes a recording of about SIZE MB per format into a temporary folder, with the libraries'
own writers: `/camera` (10 Hz, 1 MB incompressible payloads: most of the file), `/imu`
(200 Hz, six floats) and `/gps` (10 Hz). Then, each in a fresh process, interleaved:

- floor: the imports (pandas, nexus's handlers, the format's library), reading nothing
  (every mode makes them; the times below leave them out);
- topic: nexus reads `/imu` whole (handler_args {topic: /imu});
- window: nexus reads 10 s of `/imu` from the middle (start_s, end_s);
- everything: the yardstick, what a converter that loads the recording does: the format's
  library reads every message of every topic and keeps it (raw bytes, undecoded).

Peak memory is the reading process's own high-water mark (VmHWM, read by it at its end):
ru_maxrss would count the benchmark's own memory too, which a child inherits at fork.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import PROJECT, machine, spread

CAMERA_HZ, IMU_HZ, GPS_HZ = 10, 200, 10
CAMERA_BYTES = 1 << 20
WINDOW_S = 10.0
IMU_FIELDS = ("ax", "ay", "az", "gx", "gy", "gz")
NAMES = {"mcap": "drive.mcap", "rosbag": "drive.bag", "hdf5": "drive.h5"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="mcap,rosbag,hdf5")
    parser.add_argument("--read", nargs=4, metavar=("FORMAT", "PATH", "MODE", "S"), help="internal")
    options = parser.parse_args()
    if options.read:
        read(*options.read)
        return
    print(machine())
    duration = options.size_mb * 2**20 / (CAMERA_HZ * CAMERA_BYTES)
    print(f"recordings of {duration:.1f} s: {IMU_HZ * duration:,.0f} /imu messages each")
    folder = Path(tempfile.mkdtemp(prefix="nexus-bench-recordings-"))
    try:
        for fmt in options.formats.split(","):
            measure(fmt, folder / NAMES[fmt], duration, options.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(fmt: str, path: Path, duration: float, count: int) -> None:
    started = time.perf_counter()
    WRITERS[fmt](path, duration)
    size = sum(p.stat().st_size for p in ([path] if path.is_file() else path.rglob("*")))
    took = time.perf_counter() - started
    print(f"\n{fmt}: {path.name}, {size / 2**20:,.0f} MB, written in {took:.0f} s")
    print(f"  /imu as a DataFrame in memory: {topic_mb(fmt, path):.2f} MB")
    modes = ("floor", "topic", "window", "everything")
    command = [sys.executable, __file__, "--read", fmt, str(path)]
    reads = [lambda m=m: measured([*command, m, str(duration)]) for m in modes]
    results: list[list[tuple[float, ...]]] = [[] for _ in modes]
    for _ in range(count):  # interleaved, so that load from elsewhere hits all alike
        for result, one in zip(results, reads, strict=True):
            result.append(one())
    floor = statistics.median(peak for *_, peak in results[0])
    print(f"  {'read':11s} {'wall s':19s} {'CPU s':19s} {'peak MB':25s} over the floor")
    for mode, runs in zip(modes, results, strict=True):
        walls, cpus, peaks = ([run[i] for run in runs] for i in range(3))
        over = statistics.median(peaks) - floor
        print(f"  {mode:11s} {spread(walls):19s} {spread(cpus):19s} {spread(peaks):25s} {over:.1f}")


def measured(args: list[str]) -> tuple[float, ...]:
    """The wall and CPU seconds of a read (imports excluded) and the peak MB of its process."""
    done = subprocess.run(args, cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return tuple(float(value) for value in done.stdout.split()[-3:])


def topic_mb(fmt: str, path: Path) -> float:
    frame = load(fmt, path, {})
    return float(frame.memory_usage(deep=True).sum()) / 2**20


def peak_mb() -> float:
    """This process's high-water resident set, in MB: its own, since its exec."""
    status = Path("/proc/self/status").read_text()
    return (
        next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        / 1024
    )


# -- reading, in the measured process -------------------------------------------------------


def read(fmt: str, path_text: str, mode: str, duration_text: str) -> None:
    """One measured read; prints its wall and CPU seconds (imports excluded) and peak MB."""
    _imports(fmt)
    wall, cpu = time.perf_counter(), time.process_time()
    if mode != "floor":
        _read(fmt, path_text, mode, duration_text)
    print(f"{time.perf_counter() - wall:.3f} {time.process_time() - cpu:.3f} {peak_mb():.1f}")


def _imports(fmt: str) -> None:
    """What every mode imports, so that the peaks differ by what was read."""
    sys.path.insert(0, str(PROJECT))
    import pandas  # noqa: F401

    import nexus.handlers  # noqa: F401

    __import__({"mcap": "mcap.reader", "rosbag": "rosbags.highlevel", "hdf5": "h5py"}[fmt])


def _read(fmt: str, path_text: str, mode: str, duration_text: str) -> None:
    path, duration = Path(path_text), float(duration_text)
    if mode == "everything":
        kept = EVERYTHING[fmt](path)
        assert kept > 0
        return
    middle, length = round(duration / 2), min(WINDOW_S, duration / 4)
    window = {"start_s": middle, "end_s": middle + length} if mode == "window" else {}
    frame = load(fmt, path, window)
    expected = IMU_HZ * (length if window else duration)
    assert abs(len(frame) - expected) <= 1, (len(frame), expected)


def load(fmt: str, path: Path, window: dict[str, float]) -> object:
    sys.path.insert(0, str(PROJECT))
    from nexus.handlers import Hdf5Handler, McapHandler, RosbagHandler

    if fmt == "hdf5":
        return Hdf5Handler().load(path, dataset="/imu", **window)
    handler = McapHandler() if fmt == "mcap" else RosbagHandler()
    return handler.load(path, topic="/imu", **window)


def _everything_mcap(path: Path) -> int:
    from mcap.reader import make_reader

    with open(path, "rb") as stream:
        kept = [message.data for _, _, message in make_reader(stream).iter_messages()]
    return len(kept)


def _everything_rosbag(path: Path) -> int:
    from rosbags.highlevel import AnyReader

    with AnyReader([path]) as bag:
        kept = [raw for _, _, raw in bag.messages()]
    return len(kept)


def _everything_hdf5(path: Path) -> int:
    import h5py

    kept = []
    with h5py.File(path) as file:
        file.visititems(lambda _, node: kept.append(node[()]) if hasattr(node, "dtype") else None)
    return len(kept)


EVERYTHING = {"mcap": _everything_mcap, "rosbag": _everything_rosbag, "hdf5": _everything_hdf5}


# -- writing, with each library's own writer ---------------------------------------------------


def _streams(duration: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[bytes]]:
    rng = np.random.default_rng(1)
    camera_t = np.arange(round(CAMERA_HZ * duration)) / CAMERA_HZ
    imu_t = np.arange(round(IMU_HZ * duration)) / IMU_HZ
    gps_t = np.arange(round(GPS_HZ * duration)) / GPS_HZ
    blocks = [rng.bytes(CAMERA_BYTES) for _ in range(8)]  # incompressible, like JPEG data
    return camera_t, imu_t, gps_t, blocks


def _timeline(duration: float) -> list[tuple[float, str, int]]:
    """(time, topic, index) of every message, in time order."""
    events = [(i / CAMERA_HZ, "/camera", i) for i in range(round(CAMERA_HZ * duration))]
    events += [(i / IMU_HZ, "/imu", i) for i in range(round(IMU_HZ * duration))]
    events += [(i / GPS_HZ, "/gps", i) for i in range(round(GPS_HZ * duration))]
    return sorted(events)


def _imu(i: int) -> dict[str, float]:
    return {name: float(np.sin(i * 0.01 + k)) for k, name in enumerate(IMU_FIELDS)}


def write_mcap(path: Path, duration: float) -> None:
    from mcap.writer import Writer

    blocks = _streams(0)[3]
    with open(path, "wb") as stream:
        writer = Writer(stream)
        writer.start(profile="", library="nexus bench")
        schema = writer.register_schema("any", "jsonschema", b"{}")
        channels = {
            "/camera": writer.register_channel("/camera", "jpeg", 0),
            "/imu": writer.register_channel("/imu", "json", schema),
            "/gps": writer.register_channel("/gps", "json", schema),
        }
        for t, topic, i in _timeline(duration):
            if topic == "/camera":
                data = blocks[i % len(blocks)]
            elif topic == "/imu":
                data = json.dumps(_imu(i)).encode()
            else:
                data = json.dumps({"lat": 48.0 + i * 1e-6, "lon": 11.0}).encode()
            stamp = 1_767_225_600_000_000_000 + round(t * 1e9)
            writer.add_message(channels[topic], stamp, data, stamp)
        writer.finish()


def write_rosbag(path: Path, duration: float) -> None:
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC)
    types = store.types
    blocks = [np.frombuffer(b, dtype=np.uint8) for b in _streams(0)[3]]
    header, time_, vector = (
        types["std_msgs/msg/Header"],
        types["builtin_interfaces/msg/Time"],
        types["geometry_msgs/msg/Vector3"],
    )
    kinds = {
        "/camera": "sensor_msgs/msg/CompressedImage",
        "/imu": "geometry_msgs/msg/AccelStamped",
        "/gps": "sensor_msgs/msg/NavSatFix",
    }
    with Writer(path) as writer:
        conns = {t: writer.add_connection(t, k, typestore=store) for t, k in kinds.items()}
        for t, topic, i in _timeline(duration):
            stamp = 1_767_225_600_000_000_000 + round(t * 1e9)
            head = header(
                seq=i, stamp=time_(sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id=""
            )
            if topic == "/camera":
                body = types[kinds[topic]](head, "jpeg", blocks[i % len(blocks)])
            elif topic == "/imu":
                v = _imu(i)
                accel = types["geometry_msgs/msg/Accel"](
                    vector(v["ax"], v["ay"], v["az"]), vector(v["gx"], v["gy"], v["gz"])
                )
                body = types[kinds[topic]](head, accel)
            else:
                status = types["sensor_msgs/msg/NavSatStatus"](0, 1)
                body = types[kinds[topic]](
                    head, status, 48.0 + i * 1e-6, 11.0, 500.0, np.zeros(9), 0
                )
            writer.write(conns[topic], stamp, store.serialize_ros1(body, kinds[topic]))


def write_hdf5(path: Path, duration: float) -> None:
    import h5py

    camera_t, imu_t, gps_t, blocks = _streams(duration)
    with h5py.File(path, "w") as file:
        camera = file.create_dataset(
            "camera/data", (camera_t.size, CAMERA_BYTES), np.uint8, chunks=(1, CAMERA_BYTES)
        )
        for i in range(camera_t.size):
            camera[i] = np.frombuffer(blocks[i % len(blocks)], dtype=np.uint8)
        file["camera/t"] = camera_t
        file["imu/t"] = imu_t
        rows = [_imu(i) for i in range(imu_t.size)]
        for name in IMU_FIELDS:
            file[f"imu/{name}"] = np.array([row[name] for row in rows])
        file["gps/t"] = gps_t
        file["gps/lat"] = 48.0 + np.arange(gps_t.size) * 1e-6


WRITERS = {"mcap": write_mcap, "rosbag": write_rosbag, "hdf5": write_hdf5}


if __name__ == "__main__":
    main()
