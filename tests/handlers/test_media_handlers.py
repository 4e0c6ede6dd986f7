"""The frames and mp4 handlers, on real files and with the real ffmpeg of imageio-ffmpeg."""

from __future__ import annotations

import io
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
from nexus.handlers.png import PngWriter, encode_png, png_size
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
    source = CountingFrames(40)
    behind: list[int] = []

    def watched() -> Iterator[np.ndarray]:
        for index, frame in enumerate(source):
            # Streaming: when frame n is requested, all but a few of frames 0..n-1 are on disk.
            behind.append(index - len(list((tmp_path / "out").glob("*.png"))))
            yield frame

    FramesHandler().save(watched(), tmp_path / "out")

    assert source.handed == 40
    assert len(list((tmp_path / "out").glob("*.png"))) == 40
    assert max(behind) <= 4  # the PNG writer's threads hold at most 4 frames


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


# -- fast PNG writing ---------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1, 1), (7, 5), (64, 48)])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_encode_png_is_read_back_exactly_by_pillow(width: int, height: int, level: int) -> None:
    rng = np.random.default_rng(width * height + level)
    frame = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)

    data = encode_png(frame, level)

    assert png_size(data) == (width, height)
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), frame)


@pytest.mark.parametrize("data", [b"", b"GIF89a" + bytes(30), b"\x89PNG\r\n\x1a\n" + bytes(8)])
def test_png_size_of_what_is_no_png_is_none(data: bytes) -> None:
    assert png_size(data) is None


def test_frames_save_with_a_pillow_option_writes_with_pillow(tmp_path: Path) -> None:
    originals = [gradient_frame(i) for i in range(3)]

    FramesHandler().save(originals, tmp_path / "out", optimize=True)

    for original, frame in zip(originals, FramesHandler().load(tmp_path / "out"), strict=True):
        np.testing.assert_array_equal(frame, original)


def test_frames_save_rejects_a_compress_level_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="compress_level must be 0-9, got 10"):
        FramesHandler().save([gradient_frame(0)], tmp_path / "out", compress_level=10)

    assert not (tmp_path / "out").exists()


def test_png_writer_raises_a_failed_write(tmp_path: Path) -> None:
    writer = PngWriter()

    def write_all() -> None:
        for index in range(3):
            writer.write(gradient_frame(index), tmp_path / "missing" / f"{index}.png")
        writer.close()

    with pytest.raises(FileNotFoundError):
        write_all()
    writer.abort()  # after a failure: no thread left behind


# -- video encoded along with the frames --------------------------------------------------


def hidden_videos(directory: Path) -> list[Path]:
    return sorted(directory.glob(".video-*.mp4"))


def test_frames_saved_with_video_settings_are_encoded_once(tmp_path: Path) -> None:
    frames = [gradient_frame(i) for i in range(12)]
    FramesHandler().save(frames, tmp_path / "frames", video={"fps": 12})
    sequence = FramesHandler().load(tmp_path / "frames")
    [made] = hidden_videos(tmp_path / "frames")

    Mp4Handler().save(Video(sequence, fps=12), tmp_path / "linked.mp4")
    Mp4Handler().save(frames, tmp_path / "fresh.mp4", fps=12)

    assert len(sequence) == 12  # the hidden video is no frame
    assert (tmp_path / "linked.mp4").stat().st_ino == made.stat().st_ino
    # ffmpeg is deterministic: the linked video is the one encoding the frames would give.
    assert (tmp_path / "linked.mp4").read_bytes() == (tmp_path / "fresh.mp4").read_bytes()
    assert Mp4Handler().load(tmp_path / "linked.mp4").n_frames == 12


@pytest.mark.parametrize(
    ("save_args", "part"),
    [({"fps": 10}, slice(None)), ({"fps": 12, "crf": 30}, slice(None)), ({"fps": 12}, slice(2))],
    ids=["other-fps", "other-crf", "some-frames"],
)
def test_a_video_encoded_with_other_settings_or_frames_is_not_reused(
    tmp_path: Path, save_args: dict[str, float], part: slice
) -> None:
    FramesHandler().save(
        [gradient_frame(i) for i in range(6)], tmp_path / "frames", video={"fps": 12}
    )
    sequence = FramesHandler().load(tmp_path / "frames")[part]

    Mp4Handler().save(sequence, tmp_path / "v.mp4", **save_args)

    [made] = hidden_videos(tmp_path / "frames")
    assert (tmp_path / "v.mp4").stat().st_ino != made.stat().st_ino
    assert Mp4Handler().load(tmp_path / "v.mp4").n_frames == len(sequence)


def _decoded(path: Path) -> list[bytes]:
    return list(imageio_ffmpeg.read_frames(str(path)))[1:]  # the first item is the metadata


@pytest.mark.parametrize("fps", [6, 25, 30000 / 1001])
def test_at_another_fps_the_video_encoded_along_is_retimed_not_encoded(
    tmp_path: Path, fps: float, caplog: pytest.LogCaptureFixture
) -> None:
    FramesHandler().save(
        [gradient_frame(i) for i in range(24)], tmp_path / "frames", video={"fps": 12}
    )
    [made] = hidden_videos(tmp_path / "frames")
    sequence = FramesHandler().load(tmp_path / "frames")

    with caplog.at_level("INFO", logger="nexus.handlers.mp4"):
        Mp4Handler().save(sequence, tmp_path / "v.mp4", fps=fps)

    assert "retimed" in caplog.text
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "v.mp4"))
    assert frames == 24
    assert seconds == pytest.approx(24 / fps, abs=0.002)
    meta = next(imageio_ffmpeg.read_frames(str(tmp_path / "v.mp4")))
    assert meta["fps"] == pytest.approx(fps, abs=0.01)
    assert _decoded(tmp_path / "v.mp4") == _decoded(made)  # the same encoded frames


def test_retime_false_encodes_anew_at_the_new_fps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = [gradient_frame(i) for i in range(24)]
    FramesHandler().save(frames, tmp_path / "frames", video={"fps": 12})
    sequence = FramesHandler().load(tmp_path / "frames")

    with caplog.at_level("INFO", logger="nexus.handlers.mp4"):
        Mp4Handler().save(sequence, tmp_path / "v.mp4", fps=6, retime=False)
    Mp4Handler().save(frames, tmp_path / "fresh.mp4", fps=6)

    assert "retimed" not in caplog.text
    assert (tmp_path / "v.mp4").read_bytes() == (tmp_path / "fresh.mp4").read_bytes()


def test_a_video_with_other_settings_than_the_rate_is_not_retimed(tmp_path: Path) -> None:
    FramesHandler().save(
        [gradient_frame(i) for i in range(6)], tmp_path / "frames", video={"fps": 12}
    )
    sequence = FramesHandler().load(tmp_path / "frames")

    Mp4Handler().save(sequence, tmp_path / "v.mp4", fps=6, crf=30)
    Mp4Handler().save(sequence[:], tmp_path / "fresh.mp4", fps=6, crf=30, retime=False)

    assert (tmp_path / "v.mp4").read_bytes() == (tmp_path / "fresh.mp4").read_bytes()


def test_retime_must_be_true_or_false() -> None:
    problems = Mp4Handler().check_args({"retime": "yes"}, saving=True)

    assert problems == ["retime = 'yes': true or false"]


def test_a_video_encoded_along_is_not_reused_once_a_frame_changed(tmp_path: Path) -> None:
    FramesHandler().save([gradient_frame(i) for i in range(3)], tmp_path / "frames", video=True)
    [made] = hidden_videos(tmp_path / "frames")
    later = made.stat().st_mtime_ns + 1_000_000
    os.utime(tmp_path / "frames" / "frame_00001.png", ns=(later, later))

    Mp4Handler().save(FramesHandler().load(tmp_path / "frames"), tmp_path / "v.mp4")

    assert (tmp_path / "v.mp4").stat().st_ino != made.stat().st_ino


def test_a_video_that_cannot_be_encoded_along_costs_only_the_video(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = [gradient_frame(i) for i in range(4)]

    FramesHandler().save(frames, tmp_path / "frames", video={"codec": "no-such-codec"})

    assert len(FramesHandler().load(tmp_path / "frames")) == 4
    assert hidden_videos(tmp_path / "frames") == []
    assert "no video encoded along with the frames" in caplog.text


def test_frames_failing_mid_stream_stop_the_video_encoded_along(tmp_path: Path) -> None:
    def frames() -> Iterator[np.ndarray]:
        yield gradient_frame(0)
        raise RuntimeError("the renderer broke")

    with pytest.raises(RuntimeError, match="renderer broke"):
        FramesHandler().save(frames(), tmp_path / "frames", video={"fps": 12})

    assert list(tmp_path.iterdir()) == []
    if Path("/proc/self/stat").exists():
        assert ffmpeg_children() == []


# -- mp4 from PNG files -------------------------------------------------------------------


def test_mp4_of_png_files_of_two_sizes_is_a_value_error(tmp_path: Path) -> None:
    FramesHandler().save([gradient_frame(0), gradient_frame(1, height=32)], tmp_path / "frames")

    with pytest.raises(ValueError, match="frame 1 is 64x32 but the video is 64x48"):
        Mp4Handler().save(FramesHandler().load(tmp_path / "frames"), tmp_path / "v.mp4")

    assert not (tmp_path / "v.mp4").exists()


def test_mp4_of_a_png_file_that_is_none_is_a_data_error(tmp_path: Path) -> None:
    FramesHandler().save([gradient_frame(0), gradient_frame(1)], tmp_path / "frames")
    (tmp_path / "frames" / "frame_00001.png").write_bytes(b"not a png")

    with pytest.raises(DataError, match=r"cannot read frame 'frame_00001\.png'"):
        Mp4Handler().save(FramesHandler().load(tmp_path / "frames"), tmp_path / "v.mp4")

    assert not (tmp_path / "v.mp4").exists()
