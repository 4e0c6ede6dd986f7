"""H.264 encoding by ffmpeg: the settings of an mp4, and one ffmpeg process fed through stdin.

Shared by the mp4 handler (which encodes) and the frames handler (which can encode a video
of the frames while it saves them, for the mp4 handler to reuse: see `Mp4Settings.key`).
"""

from __future__ import annotations

import contextlib
import subprocess
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from nexus.errors import DataError, unknown_keys

__all__ = ["DEFAULT_FPS", "Encoder", "Mp4Settings", "mp4_arg_problems"]

DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class Mp4Settings:
    """How an mp4 is encoded: the mp4 handler's save args, checked."""

    fps: float = DEFAULT_FPS
    codec: str = "libx264"
    crf: int = 20
    preset: str = "medium"
    output_params: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        fps: float = DEFAULT_FPS,
        codec: str = "libx264",
        crf: int = 20,
        preset: str = "medium",
        output_params: Sequence[str] = (),
    ) -> Mp4Settings:
        """Settings from save args; a ValueError names a bad value."""
        if not fps > 0 or not 0 <= crf <= 51:
            raise ValueError(f"mp4 needs fps > 0 and 0 <= crf <= 51, got fps={fps}, crf={crf}")
        if isinstance(output_params, str):
            raise ValueError("output_params is a list of ffmpeg options, not one string")
        return cls(float(fps), str(codec), int(crf), str(preset), tuple(map(str, output_params)))

    @property
    def rate(self) -> str:
        """The frame rate as ffmpeg reads it: a fraction, so 30000/1001 stays exact."""
        return str(Fraction(self.fps).limit_denominator())

    def output_args(self, width: int, height: int) -> list[str]:
        """ffmpeg's output options for frames of `width` x `height`."""
        params = ["-c:v", self.codec, "-pix_fmt", "yuv420p"]
        if self.codec in ("libx264", "libx265"):
            params += ["-crf", str(self.crf), "-preset", self.preset]
        if width % 2 or height % 2:
            # Pad rather than rescale: pixels stay where the frames put them.
            params += ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
        # faststart: players can start before the whole file has arrived; -f: the name may
        # be a temporary one.
        return [*params, "-movflags", "+faststart", *self.output_params, "-f", "mp4"]

    def key(self) -> str:
        """A name for these settings, e.g. '30fps-libx264-crf20-medium': equal settings, equal
        key. ffmpeg's output is the same for the same frames and settings, so a video encoded
        under one key stands for any other encoding under it."""
        name = f"{self.rate.replace('/', '_')}fps-{self.codec}-crf{self.crf}-{self.preset}"
        if self.output_params:
            name += f"-{zlib.crc32(repr(self.output_params).encode()):08x}"
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


MP4_ARGS = ("fps", "codec", "crf", "preset", "output_params")
X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)  # fmt: skip


def mp4_arg_problems(args: dict[str, Any]) -> list[str]:
    """What is wrong with mp4 settings given as args, one 'key = value: why' each."""
    problems = unknown_keys(args, MP4_ARGS)
    fps, crf = args.get("fps"), args.get("crf", 20)
    if fps is not None and (not _is_number(fps) or not fps > 0):
        problems.append(f"fps = {fps!r}: must be a number > 0 (frames per second)")
    if not isinstance(crf, int) or isinstance(crf, bool) or not 0 <= crf <= 51:
        problems.append(f"crf = {crf!r}: must be a whole number 0-51 (lower is better; 18-28)")
    preset = args.get("preset", "medium")
    if args.get("codec", "libx264") in ("libx264", "libx265") and preset not in X264_PRESETS:
        problems.append(f"preset = {preset!r}: one of {', '.join(X264_PRESETS)}")
    if isinstance(args.get("output_params", ()), str):
        problems.append("output_params: a list of ffmpeg options, not one string")
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def raw_input_args(width: int, height: int, settings: Mp4Settings) -> list[str]:
    """ffmpeg's input options for raw RGB frames on stdin."""
    return [
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-framerate",
        settings.rate,
    ]


class Encoder:
    """ffmpeg reading `input_args`-described data from stdin, writing `path`.

    `write` sends bytes (or any buffer, e.g. a contiguous numpy array); `finish` waits for
    ffmpeg and checks it wrote a video; `abort` kills it and deletes its output. ffmpeg runs
    in its own session, so a Ctrl-C reaches only nexus, which then stops it.
    """

    def __init__(self, input_args: list[str], output_args: list[str], path: Path) -> None:
        import imageio_ffmpeg

        self.path, self.count = path, 0
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "warning", "-nostdin"]
        command += [*input_args, "-i", "pipe:0", "-an", *output_args, str(path)]
        self.codec = output_args[output_args.index("-c:v") + 1] if "-c:v" in output_args else ""
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True
        )

    def write(self, data: Any) -> None:
        """Send one frame's bytes; a DataError when ffmpeg has stopped reading."""
        stdin = self.process.stdin
        assert stdin is not None  # Popen(stdin=PIPE) always has one
        try:
            stdin.write(data)
        except OSError as exc:  # BrokenPipeError: ffmpeg exited (bad codec, bad input, ...)
            raise self._failure(f"at frame {self.count}") from exc
        self.count += 1

    def finish(self) -> None:
        """Close the input and wait for ffmpeg; a DataError unless it wrote a video."""
        stdin = self.process.stdin
        assert stdin is not None
        with contextlib.suppress(OSError):  # it exited already: its exit code says why
            stdin.close()
        code = self.process.wait()
        if code != 0 or not self.path.is_file() or self.path.stat().st_size == 0:
            self.path.unlink(missing_ok=True)
            raise self._failure(f"after {self.count} frames (exit code {code})")

    def abort(self) -> None:
        """Stop ffmpeg now, without waiting for it to finish, and delete what it wrote."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()  # reaped: no zombie
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):  # the pipe's other end is gone with ffmpeg
                self.process.stdin.close()
        self.path.unlink(missing_ok=True)

    def _failure(self, when: str) -> DataError:
        return DataError(
            f"ffmpeg stopped while encoding {self.path.name} with codec '{self.codec}' {when}",
            [
                "ffmpeg's reason is printed on stderr above",
                "check the codec name: `ffmpeg -encoders` lists the available ones",
            ],
        )
