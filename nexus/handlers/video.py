"""Handler for H.264 MP4 video, encoded and decoded by ffmpeg (imageio-ffmpeg) frame by frame."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from nexus.errors import DataError
from nexus.handlers.frames import frame_stream, remove_quietly
from nexus.registry import handler

__all__ = ["Mp4Handler", "Video", "VideoFile"]

DEFAULT_FPS = 30.0


@dataclass
class Video:
    """Frames to encode and their rate: what a step returns to have an mp4 written.

    `frames` is any iterable of (H, W, 3|4) uint8 arrays or PIL images, consumed once, lazily.
    """

    frames: Iterable[Any]
    fps: float = DEFAULT_FPS

    def __post_init__(self) -> None:
        if not self.fps > 0:
            raise ValueError(f"a video's fps must be positive, got {self.fps!r}")


@dataclass(frozen=True)
class VideoFile:
    """A video on disk; iterating it decodes its frames one at a time.

    Attributes:
        path: the file.
        fps: frames per second, as stored in the file.
        size: (width, height) of the decoded frames.
        n_frames: the number of frames, counted by ffmpeg.
        codec: ffmpeg's name of the video codec, e.g. 'h264'.
    """

    path: Path
    fps: float
    size: tuple[int, int]
    n_frames: int
    codec: str = ""

    def frames(self) -> Iterator[np.ndarray]:
        """Yield each frame as an (H, W, 3) uint8 RGB array, decoding as it goes."""
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(self.path))
        try:
            width, height = next(reader)["size"]
            for raw in reader:
                yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).copy()
        finally:
            reader.close()  # stops ffmpeg also when the caller stops early

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.frames()

    def __len__(self) -> int:
        return self.n_frames


@handler
class Mp4Handler:
    """H.264 MP4 (yuv420p, plays in browsers and players); loads as a lazy VideoFile.

    Saves a `Video`, a `FrameSequence`, a `VideoFile` or any iterable of frames, streaming
    them to ffmpeg. Save args: `fps` (default: the Video's, else 30), `crf` (0-51, lower is
    better; 18 is visually lossless), `preset` (x264 speed: ultrafast ... veryslow), `codec`;
    others go to `imageio_ffmpeg.write_frames`. Odd widths or heights are padded by one
    black pixel, since yuv420p needs even sizes.
    """

    name = "mp4"
    extensions = (".mp4",)
    reload_after_save = True

    def load(self, path: Path, **args: Any) -> VideoFile:
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(reader)
        finally:
            reader.close()
        n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
        width, height = meta["size"]
        return VideoFile(Path(path), float(meta["fps"]), (width, height), n_frames, meta["codec"])

    def save(
        self,
        obj: Any,
        path: Path,
        fps: float | None = None,
        codec: str = "libx264",
        crf: int = 20,
        preset: str = "medium",
        **args: Any,
    ) -> None:
        own = obj.fps if isinstance(obj, Video | VideoFile) else DEFAULT_FPS
        rate = own if fps is None else fps
        if not rate > 0 or not 0 <= crf <= 51:
            raise ValueError(f"mp4 needs fps > 0 and 0 <= crf <= 51, got fps={rate}, crf={crf}")
        frames = frame_stream(obj.frames if isinstance(obj, Video) else obj, self.name)
        first = next(frames, None)
        if first is None:
            raise ValueError("no frames: the video to save as mp4 has no frames")
        height, width = first.shape[:2]
        output = _output_params(width, height, codec, crf, preset, args.pop("output_params", []))
        try:
            _encode(chain([first], frames), path, (width, height), rate, codec, output, args)
        finally:
            frames.close()  # and so the producer, also when encoding stopped early


def _output_params(
    width: int, height: int, codec: str, crf: int, preset: str, extra: list[str]
) -> list[str]:
    params = ["-crf", str(crf), "-preset", preset] if codec in ("libx264", "libx265") else []
    if width % 2 or height % 2:
        # Pad rather than let imageio-ffmpeg rescale: pixels stay where the frames put them.
        params += ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
    # faststart: players can start before the whole file has arrived; -f: the name may be a temp.
    return [*params, "-movflags", "+faststart", *extra, "-f", "mp4"]


def _encode(
    frames: Iterator[np.ndarray],
    path: Path,
    size: tuple[int, int],
    fps: float,
    codec: str,
    output_params: list[str],
    args: dict[str, Any],
) -> None:
    """Send the frames to one ffmpeg process; on any failure stop it and delete its output."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(path),
        size,
        fps=fps,
        codec=codec,
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        quality=None,
        macro_block_size=1,
        output_params=output_params,
        **args,
    )
    count = 0
    try:
        writer.send(None)
        for count, frame in enumerate(frames):
            if frame.shape[:2] != size[::-1]:
                raise ValueError(
                    f"frame {count} is {frame.shape[1]}x{frame.shape[0]} but the video is "
                    f"{size[0]}x{size[1]} (the size of frame 0); all frames need one size"
                )
            writer.send(frame)
        writer.close()
    except OSError as exc:
        _abort(writer, exc, path)
        raise DataError(
            f"ffmpeg stopped while encoding {path.name} with codec '{codec}' at frame {count}",
            ["ffmpeg's reason is printed on stderr above", _first_line(exc)],
        ) from exc
    except BaseException as exc:
        _abort(writer, exc, path)
        raise
    if not path.is_file() or path.stat().st_size == 0:
        # ffmpeg can fail before reading anything (e.g. an unknown codec) while small frames
        # still fit in the pipe, so no write fails: the missing file is the only sign.
        remove_quietly(path)
        raise DataError(
            f"ffmpeg wrote no video for {path.name} with codec '{codec}'",
            [
                "ffmpeg's reason is printed on stderr above",
                "check the codec name: `ffmpeg -encoders` lists the available ones",
            ],
        )


def _abort(writer: Any, exc: BaseException, path: Path) -> None:
    if isinstance(exc, Exception):
        writer.close()  # ffmpeg finishes the frames it has and exits; the file is deleted below
    else:
        # Ctrl-C or exit: throwing it in makes imageio-ffmpeg kill ffmpeg without waiting.
        with contextlib.suppress(BaseException):  # the caller re-raises the original
            writer.throw(exc)
    remove_quietly(path)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).splitlines()[0]
