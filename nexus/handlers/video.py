"""Handler for H.264 MP4 video, encoded and decoded by ffmpeg (imageio-ffmpeg) frame by frame."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from nexus.core.registry import handler
from nexus.errors import DataError
from nexus.handlers.ffmpeg import (
    DEFAULT_FPS,
    Encoder,
    Mp4Settings,
    mp4_arg_problems,
    raw_input_args,
)
from nexus.handlers.frames import (
    FrameSequence,
    encoded_alongside,
    encoded_alongside_at_another_rate,
    frame_stream,
)
from nexus.handlers.png import png_size

__all__ = ["Mp4Handler", "Video", "VideoFile"]

log = logging.getLogger("nexus.handlers.mp4")
TIMES = ("pts", "dts", "duration")  # what ffmpeg's setts filter scales in each packet, to retime


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
    them to ffmpeg; the PNG files of a `FrameSequence` go to ffmpeg as they are, undecoded.
    Save args: `fps` (default: the Video's, else 30), `crf` (0-51, lower is better; 18 is
    visually lossless), `preset` (x264 speed: ultrafast ... veryslow), `codec`, and
    `output_params` (more ffmpeg output options, a list). Odd widths or heights are padded
    by one black pixel, since yuv420p needs even sizes. Frames saved with the frames handler's
    `video:` setting were encoded as they were saved: with the same settings that video is
    linked, and at another `fps` only its timestamps change (`retime`).
    """

    name = "mp4"
    extensions = (".mp4",)
    reload_after_save = True

    def load(self, path: Path, **args: Any) -> VideoFile:
        """Args:
        **args: none is used: a `VideoFile` names the file, its frame rate, size and codec.
        """
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(reader)
        finally:
            reader.close()
        n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
        width, height = meta["size"]
        return VideoFile(Path(path), float(meta["fps"]), (width, height), n_frames, meta["codec"])

    def check_args(self, args: dict[str, Any], saving: bool) -> list[str]:
        """Problems of save args beyond their types: ranges and presets."""
        if not saving:
            return []
        problems = mp4_arg_problems({k: v for k, v in args.items() if k != "retime"})
        if not isinstance(args.get("retime", True), bool):
            problems.append(f"retime = {args['retime']!r}: true or false")
        return problems

    def save(
        self,
        obj: Any,
        path: Path,
        fps: float | None = None,
        codec: str = "libx264",
        crf: int = 20,
        preset: str = "medium",
        output_params: Sequence[str] = (),
        retime: bool = True,
    ) -> None:
        """Args:
        fps: frames per second; default: the `Video`'s own, else 30.
        codec: the ffmpeg video codec.
        crf: quality, 0-51; lower is better, 18 is visually lossless.
        preset: x264's speed against size: ultrafast ... veryslow.
        output_params: more ffmpeg output options, a list, e.g. `["-tune", "film"]`.
        retime: frames whose video was encoded as they were saved (the frames handler's
            `video:`) at another fps, with the other settings alike, get that video with new
            timestamps: the same encoded frames, no encoding (an fps sweep encodes nothing).
            false: encode anew, which lets x264 spend its bits by the new rate.
        """
        own = obj.fps if isinstance(obj, Video | VideoFile) else DEFAULT_FPS
        rate = own if fps is None else fps
        settings = Mp4Settings.of(rate, codec, crf, preset, output_params)
        source = obj.frames if isinstance(obj, Video) else obj
        if isinstance(source, FrameSequence):
            reused = _reuse(source, settings, path) or (retime and _retime(source, settings, path))
            if not reused:
                _encode_pngs(source, path, settings)
        else:
            _encode_arrays(frame_stream(source, self.name), path, settings)


def _reuse(sequence: FrameSequence, settings: Mp4Settings, path: Path) -> bool:
    """Link the video the frames handler encoded along with these frames, if it fits."""
    made = encoded_alongside(sequence, settings)
    if made is None:
        return False
    try:
        os.link(made, path)  # no copy: both names are of one finished, never-changed file
    except OSError:
        shutil.copyfile(made, path)
    log.info("linked the video encoded while the frames were saved: %s", made.name)
    return True


def _retime(sequence: FrameSequence, settings: Mp4Settings, path: Path) -> bool:
    """Copy the video encoded alongside at another rate, each frame's time scaled to `settings`.

    Worth it: an fps sweep of the demo took 1.9 s a job to encode 300 frames, 0.15 s so. The
    frames are bit for bit those of that encoding, their times exact (each scaled from its
    own original time, so the rounding does not add up).
    """
    if settings.output_params:  # options we cannot tell the effect of: encode
        return False
    found = encoded_alongside_at_another_rate(sequence, settings)
    if found is None:
        return False
    made, rate = found
    scale = rate / Fraction(settings.rate)
    times = ":".join(f"{t}={t.upper()}*{scale.numerator}/{scale.denominator}" for t in TIMES)
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-nostdin", "-i", str(made)]
    command += ["-map", "0:v", "-c", "copy", "-bsf:v", f"setts={times}"]
    command += ["-movflags", "+faststart", "-f", "mp4", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, start_new_session=True)
    if done.returncode != 0 or not path.is_file() or path.stat().st_size == 0:
        log.warning("could not retime %s (%s): encoding anew", made.name, done.stderr.strip())
        path.unlink(missing_ok=True)
        return False
    log.info(
        "retimed the video encoded while the frames were saved (%s) to %s fps, without encoding",
        made.name,
        settings.rate,
    )
    return True


def _encode_arrays(frames: Generator[np.ndarray, None, None], path: Path, s: Mp4Settings) -> None:
    """Send raw RGB frames to ffmpeg; all must have the size of the first."""
    try:
        first = next(frames, None)
        if first is None:
            raise ValueError("no frames: the video to save as mp4 has no frames")
        height, width = first.shape[:2]
        encoder = Encoder(raw_input_args(width, height, s), s.output_args(width, height), path)
        try:
            for index, frame in enumerate(chain([first], frames)):
                if frame.shape[:2] != (height, width):
                    raise _size_error(index, frame.shape[1], frame.shape[0], width, height)
                encoder.write(frame)
        except BaseException:
            encoder.abort()
            raise
        encoder.finish()
    finally:
        frames.close()  # and so the producer, also when encoding stopped early


def _encode_pngs(sequence: FrameSequence, path: Path, s: Mp4Settings) -> None:
    """Send the PNG files as they are: ffmpeg decodes them faster than Python would."""
    if len(sequence) == 0:
        raise ValueError("no frames: the video to save as mp4 has no frames")
    width, height = sequence.frame_size
    png_input = ["-f", "image2pipe", "-c:v", "png", "-framerate", s.rate]
    encoder = Encoder(png_input, s.output_args(width, height), path)
    try:
        for index, file in enumerate(sequence.paths):
            data = file.read_bytes()
            size = png_size(data)
            if size is None:
                raise DataError(
                    f"cannot read frame '{file.name}' in {file.parent}: not a PNG file",
                    ["the file may be truncated; re-run the step that wrote the frames"],
                )
            if size != (width, height):
                raise _size_error(index, *size, width, height)
            encoder.write(data)
    except BaseException:
        encoder.abort()
        raise
    encoder.finish()


def _size_error(index: int, width: int, height: int, video_w: int, video_h: int) -> ValueError:
    return ValueError(
        f"frame {index} is {width}x{height} but the video is {video_w}x{video_h} "
        "(the size of frame 0); all frames need one size"
    )
