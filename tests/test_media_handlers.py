"""The frames and mp4 handlers, on real files and with the real ffmpeg of imageio-ffmpeg."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nexus.errors import DataError
from nexus.handlers import FrameSequence, FramesHandler, Mp4Handler, Video
from nexus.handlers.video import VideoFile


def gradient_frame(index: int, height: int = 48, width: int = 64) -> np.ndarray:
    """A frame whose pixels encode their position and the frame number."""
    rows = np.arange(height, dtype=np.uint8)[:, None].repeat(width, axis=1)
    cols = np.arange(width, dtype=np.uint8)[None, :].repeat(height, axis=0)
    return np.dstack([rows * 3, cols * 2, np.full_like(rows, index)])


class CountingFrames:
    """An iterator of frames that records how many it has handed out; it has no len()."""

    def __init__(self, count: int, **size: int) -> None:
        self.count, self.size, self.handed = count, size, 0

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        if self.handed == self.count:
            raise StopIteration
        self.handed += 1
        return gradient_frame(self.handed - 1, **self.size)


def stream_info(path: Path) -> str:
    """ffmpeg's description of the video stream of `path`."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,  # ffmpeg exits 1 without an output file, after printing the streams
    )
    lines = [line for line in result.stderr.splitlines() if re.search(r"Stream #.*Video:", line)]
    assert len(lines) == 1, result.stderr
    return lines[0]


def ffmpeg_children() -> list[str]:
    """State letters of this process's ffmpeg children, zombies ('Z') included."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        state, ppid = rest.split()[:2]
        if int(ppid) == os.getpid() and "ffmpeg" in name:
            found.append(state)
    return found


# -- frames -------------------------------------------------------------------------------


def test_frames_round_trip_keeps_pixels_and_order(tmp_path: Path) -> None:
    frames = FramesHandler()
    originals = [gradient_frame(i) for i in range(12)]

    frames.save((frame for frame in originals), tmp_path / "out")
    loaded = frames.load(tmp_path / "out")

    assert isinstance(loaded, FrameSequence)
    assert len(loaded) == 12
    assert [p.name for p in loaded.paths[:2]] == ["frame_00000.png", "frame_00001.png"]
    assert loaded.frame_size == (64, 48)
    for original, frame in zip(originals, loaded, strict=True):
        assert frame.dtype == np.uint8
        np.testing.assert_array_equal(frame, original)


def test_frames_save_streams_from_an_iterator(tmp_path: Path) -> None:
    source = CountingFrames(5)
    seen_on_disk: list[int] = []

    def watched() -> Iterator[np.ndarray]:
        for frame in source:
            # Streaming: frame n is requested after frame n-1 is on disk, not all up front.
            seen_on_disk.append(len(list((tmp_path / "out").glob("*.png"))))
            yield frame

    FramesHandler().save(watched(), tmp_path / "out")

    assert source.handed == 5
    assert seen_on_disk == [0, 1, 2, 3, 4]


def test_frame_sequence_is_a_lazy_sequence(tmp_path: Path) -> None:
    FramesHandler().save([gradient_frame(i) for i in range(6)], tmp_path / "out")
    sequence = FrameSequence(tmp_path / "out")

    part = sequence[2:5]

    assert isinstance(part, FrameSequence)
    assert len(part) == 3
    assert part.directory == tmp_path / "out"
    assert int(part[0][0, 0, 2]) == 2
    assert int(sequence[-1][0, 0, 2]) == 5
    with pytest.raises(IndexError):
        sequence[6]


def test_frames_save_accepts_rgba_and_pil_images(tmp_path: Path) -> None:
    rgba = np.dstack([gradient_frame(0), np.full((48, 64), 7, np.uint8)])
    image = Image.fromarray(gradient_frame(1)).convert("RGBA")

    FramesHandler().save([rgba, image], tmp_path / "out")
    loaded = FramesHandler().load(tmp_path / "out")

    np.testing.assert_array_equal(loaded[0], gradient_frame(0))
    np.testing.assert_array_equal(loaded[1], gradient_frame(1))


def test_frames_dir_with_another_file_is_a_data_error_naming_it(tmp_path: Path) -> None:
    FramesHandler().save([gradient_frame(0)], tmp_path / "out")
    (tmp_path / "out" / "notes.txt").write_text("not a frame")
    (tmp_path / "out" / ".DS_Store").write_text("hidden files are ignored")

    with pytest.raises(DataError, match=r"notes\.txt") as caught:
        FramesHandler().load(tmp_path / "out")

    assert str(tmp_path / "out") in str(caught.value)
    assert "DS_Store" not in str(caught.value)


def test_empty_frames_dir_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    with pytest.raises(DataError, match="empty"):
        FramesHandler().load(tmp_path / "empty")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (pd.DataFrame({"x": [1, 2]}), "got DataFrame"),
        ("frames", "got str"),
        (None, "got NoneType"),
        (np.zeros((4, 4, 3), np.uint8), r"one array of shape \(4, 4, 3\)"),
        ([np.zeros((4, 4, 3), np.float32)], "frame 0 .* dtype float32"),
        ([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)], r"frame 1 .*\(4, 4\)"),
        ([np.zeros((4, 4, 3), np.uint8), "frame"], "frame 1 is a str"),
    ],
    ids=["dataframe", "str", "none", "single-frame", "float-frame", "2d-frame", "str-frame"],
)
def test_frames_save_rejects_what_is_not_frames(tmp_path: Path, obj: object, expected: str) -> None:
    with pytest.raises(TypeError, match=expected):
        FramesHandler().save(obj, tmp_path / "out")

    assert not (tmp_path / "out").exists()


def test_frames_save_of_nothing_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        FramesHandler().save(iter([]), tmp_path / "out")

    assert not (tmp_path / "out").exists()


# -- mp4 ----------------------------------------------------------------------------------


def test_mp4_encodes_h264_yuv420p_with_every_frame(tmp_path: Path) -> None:
    path = tmp_path / ".video.partial-1234.mp4"  # the hub's kind of temporary name
    image = gradient_frame(0, height=48, width=64)

    Mp4Handler().save(Video(frames=(image for _ in range(20)), fps=10), path)
    video = Mp4Handler().load(path)

    assert isinstance(video, VideoFile)
    assert video.n_frames == 20
    assert video.size == (64, 48)
    assert video.fps == pytest.approx(10)
    info = stream_info(path)
    assert "h264" in info
    assert "yuv420p" in info
    decoded = list(video.frames())
    assert len(decoded) == 20
    assert decoded[0].shape == (48, 64, 3)
    # Lossy, but the gradient must survive: mean error of a few grey levels.
    assert np.abs(decoded[10].astype(int) - image.astype(int)).mean() < 4


def test_mp4_saves_a_frame_sequence_and_a_plain_iterator(tmp_path: Path) -> None:
    FramesHandler().save([gradient_frame(i) for i in range(7)], tmp_path / "frames")
    source = CountingFrames(9)

    Mp4Handler().save(FramesHandler().load(tmp_path / "frames"), tmp_path / "a.mp4", fps=15)
    Mp4Handler().save(source, tmp_path / "b.mp4")

    assert Mp4Handler().load(tmp_path / "a.mp4").n_frames == 7
    assert Mp4Handler().load(tmp_path / "a.mp4").fps == pytest.approx(15)
    assert source.handed == 9
    assert Mp4Handler().load(tmp_path / "b.mp4").fps == pytest.approx(30)


@pytest.mark.parametrize(("width", "height"), [(33, 25), (64, 35), (7, 64)])
def test_mp4_with_odd_sizes_pads_to_even(tmp_path: Path, width: int, height: int) -> None:
    frames = [gradient_frame(i, height=height, width=width) for i in range(5)]

    Mp4Handler().save(frames, tmp_path / "odd.mp4")
    video = Mp4Handler().load(tmp_path / "odd.mp4")

    assert video.n_frames == 5
    assert video.size == (width + width % 2, height + height % 2)
    assert "yuv420p" in stream_info(tmp_path / "odd.mp4")
    # Padded, not rescaled: the image keeps its pixels at the same place.
    first = next(iter(video))
    assert np.abs(first[:height, :width].astype(int) - frames[0].astype(int)).mean() < 6


@pytest.mark.parametrize(
    "obj",
    [pd.DataFrame({"t": [0.0]}), "video.mp4", None, 42],
    ids=["dataframe", "str", "none", "int"],
)
def test_mp4_rejects_what_is_not_frames(tmp_path: Path, obj: object) -> None:
    with pytest.raises(TypeError, match="iterable of frames"):
        Mp4Handler().save(obj, tmp_path / "v.mp4")

    assert not (tmp_path / "v.mp4").exists()


def test_mp4_of_no_frames_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        Mp4Handler().save(Video(frames=[]), tmp_path / "v.mp4")

    assert not (tmp_path / "v.mp4").exists()


def test_mp4_failing_mid_stream_leaves_no_file(tmp_path: Path) -> None:
    def frames() -> Iterator[np.ndarray]:
        yield gradient_frame(0)
        yield gradient_frame(1)
        yield gradient_frame(2, height=32)  # another size

    with pytest.raises(ValueError, match="frame 2 is 64x32 but the video is 64x48"):
        Mp4Handler().save(frames(), tmp_path / "v.mp4")

    assert list(tmp_path.iterdir()) == []
    if Path("/proc/self/stat").exists():
        assert ffmpeg_children() == []


def test_mp4_unknown_codec_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="codec 'no-such-codec'"):
        Mp4Handler().save([gradient_frame(0)] * 3, tmp_path / "v.mp4", codec="no-such-codec")

    assert not (tmp_path / "v.mp4").exists()
