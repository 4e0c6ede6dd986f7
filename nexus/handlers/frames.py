"""Handler for image frames kept as a directory of PNG files, read and written one at a time."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import Any, overload

import numpy as np

from nexus.core.registry import handler
from nexus.errors import DataError, unknown_keys
from nexus.handlers.ffmpeg import Encoder, Mp4Settings, mp4_arg_problems, raw_input_args
from nexus.handlers.png import PngWriter

__all__ = [
    "FrameSequence",
    "FramesHandler",
    "encoded_alongside",
    "encoded_alongside_at_another_rate",
    "frame_stream",
    "remove_quietly",
]

FRAME_NAME = "frame_{index:05d}.png"
log = logging.getLogger("nexus.handlers.frames")


class FrameSequence(Sequence[np.ndarray]):
    """The PNG frames of a directory, in name order, decoded only when accessed.

    Names are ordered naturally (`frame_9` before `frame_10`), so sequences longer than the
    zero padding still play in order. Each frame is an (H, W, 3) uint8 RGB array.
    """

    def __init__(self, directory: Path | str, paths: Sequence[Path] | None = None) -> None:
        self._directory = Path(directory)
        self._paths = list(paths) if paths is not None else _png_files(self._directory)

    @property
    def directory(self) -> Path:
        """The directory the frames are read from."""
        return self._directory

    @property
    def paths(self) -> list[Path]:
        """The frame files, in order."""
        return list(self._paths)

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the first frame, read from its header only."""
        from PIL import Image

        if not self._paths:
            raise ValueError(f"no frames in this sequence of {self._directory}")
        with Image.open(self._paths[0]) as image:
            return image.size

    def __len__(self) -> int:
        return len(self._paths)

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, index: slice) -> FrameSequence: ...

    def __getitem__(self, index: int | slice) -> np.ndarray | FrameSequence:
        if isinstance(index, slice):
            return FrameSequence(self._directory, self._paths[index])
        return _read_png(self._paths[index])

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self._paths:
            yield _read_png(path)

    def __repr__(self) -> str:
        return f"FrameSequence({str(self._directory)!r}, {len(self)} frames)"


def _read_png(path: Path) -> np.ndarray:
    """One frame as an (H, W, 3) uint8 RGB array; an unreadable file is a DataError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.array(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(
            f"cannot read frame '{path.name}' in {path.parent}: {exc}",
            ["the file may be truncated; re-run the step that wrote the frames"],
        ) from exc


def _png_files(directory: Path) -> list[Path]:
    """The PNG files of `directory` in natural name order; anything else is a DataError."""
    if not directory.is_dir():
        raise DataError(
            f"frames directory not found: {directory}",
            ["the 'frames' handler reads a directory of PNG files"],
        )
    files = [p for p in directory.iterdir() if not p.name.startswith(".")]
    strangers = sorted(p.name for p in files if p.suffix.lower() != ".png" or not p.is_file())
    if strangers:
        listed = ", ".join(f"'{name}'" for name in strangers[:5])
        more = f" and {len(strangers) - 5} more" if len(strangers) > 5 else ""
        raise DataError(
            f"frames directory {directory} holds {listed}{more}, which is not a PNG frame",
            [
                "the 'frames' handler reads a directory of .png files only",
                "move other files elsewhere, or map this name to another handler",
            ],
        )
    if not files:
        raise DataError(
            f"frames directory {directory} is empty",
            ["re-run the step that renders the frames"],
        )
    return sorted(files, key=_natural_key)


def _natural_key(path: Path) -> list[Any]:
    # Digits compare as numbers, so frame_100000 sorts after frame_99999.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def frame_stream(obj: Any, handler_name: str) -> Generator[np.ndarray, None, None]:
    """Check `obj` is an iterable of frames and yield each as a C-contiguous (H, W, 3) uint8 array.

    Raises:
        TypeError: `obj` is not an iterable of frames, or a frame has a wrong shape or dtype.
    """
    if isinstance(obj, np.ndarray) and obj.ndim != 4:
        raise TypeError(
            f"handler '{handler_name}' saves an iterable of frames; got one array of shape "
            f"{obj.shape} (a stack of frames is (N, H, W, 3); wrap a single frame in a list)"
        )
    if (
        obj is None
        or not isinstance(obj, Iterable)
        or isinstance(obj, str | bytes | bytearray | Mapping)
        or getattr(obj, "columns", None) is not None  # tables iterate over column names
    ):
        raise TypeError(
            f"handler '{handler_name}' saves an iterable of frames (HxWx3 or HxWx4 uint8 "
            f"arrays, or PIL images), got {type(obj).__name__}"
        )
    source = iter(obj)
    try:
        for index, frame in enumerate(source):
            yield _as_rgb(frame, index)
    finally:
        # Stopping early (an error, a bad frame) closes the producer now, not at garbage collection.
        close = getattr(source, "close", None)
        if callable(close):
            close()


def _as_rgb(frame: Any, index: int) -> np.ndarray:
    """Frame number `index` as a C-contiguous (H, W, 3) uint8 array; alpha is dropped."""
    from PIL import Image

    if isinstance(frame, Image.Image):
        return np.asarray(frame.convert("RGB"))
    if not isinstance(frame, np.ndarray):
        raise TypeError(
            f"frame {index} is a {type(frame).__name__}; "
            "expected an HxWx3 or HxWx4 uint8 numpy array or a PIL image"
        )
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise TypeError(
            f"frame {index} is an array of shape {frame.shape} and dtype {frame.dtype}; "
            "expected shape (H, W, 3) or (H, W, 4) and dtype uint8"
        )
    return np.ascontiguousarray(frame[:, :, :3])


def remove_quietly(path: Path) -> None:
    """Delete what a failed save left at `path`, a file or a directory."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


#: Pillow's options for writing PNGs (the frames handler passes them on).
PILLOW_PNG_OPTIONS = (
    "optimize", "compress_type", "pnginfo", "transparency", "bits", "dpi", "icc_profile", "exif",
    "dictionary",
)  # fmt: skip


@handler
class FramesHandler:
    """A directory of PNG frames `frame_00000.png`, ...; loads lazily as a FrameSequence.

    Save args:

    - `compress_level` (0-9, zlib's level; low is fast, high is small: at 1 a 640x480 plot
      takes ~2 ms and ~26 KB). Frames are encoded on background threads while the next ones
      are made; a few at most are held in memory.
    - `video`: mp4 settings (`fps`, `crf`, `preset`, `codec`, `output_params`, as for the mp4
      handler; `true` for its defaults). The frames are then also encoded, as they come, into
      a hidden video in the directory; an mp4 save of exactly these frames with exactly these
      settings (a later step's) links that video instead of encoding them again: the same
      bytes, sooner.
    - any other Pillow PNG option (e.g. `optimize`): Pillow writes the files, one at a time.
    """

    name = "frames"
    extensions: tuple[str, ...] = ()
    reload_after_save = True

    def load(self, path: Path, **args: Any) -> FrameSequence:
        """Args:
        **args: none is used: the frames are read lazily, in file name order.
        """
        return FrameSequence(path)

    def check_args(self, args: dict[str, Any], saving: bool) -> list[str]:
        """Problems of save args (load takes none): levels, video settings, Pillow options."""
        if not saving:
            return []
        problems = unknown_keys(
            [k for k in args if k not in ("compress_level", "video")],
            ["compress_level", "video", *PILLOW_PNG_OPTIONS],
        )
        level = args.get("compress_level", 1)
        if not 0 <= level <= 9:
            problems.append(f"compress_level = {level!r}: must be 0-9")
        video = args.get("video")
        if isinstance(video, Mapping):
            problems += [f"video.{p}" for p in mp4_arg_problems(dict(video))]
        elif video not in (None, True, False):
            problems.append(f"video = {video!r}: mp4 settings such as {{fps: 30}}, or true")
        return problems

    def save(
        self,
        obj: Any,
        path: Path,
        compress_level: int = 1,
        video: Mapping[str, Any] | bool | None = None,
        **pillow_args: Any,
    ) -> None:
        """Args:
        compress_level: PNG compression, 0 (none, fastest) to 9 (smallest files).
        video: mp4 settings (`fps`, `crf`, `preset`, `codec`, `output_params`, as the mp4
            handler takes them; true for its defaults): the frames are also encoded as they
            come, and an mp4 save of the same frames with the same settings links that video.
        **pillow_args: any other Pillow PNG option, e.g. `optimize`; Pillow then writes the
            files one at a time.
        """
        if not 0 <= compress_level <= 9:
            raise ValueError(f"compress_level must be 0-9, got {compress_level!r}")
        settings = _video_settings(video)
        frames = frame_stream(obj, self.name)
        first = next(frames, None)
        if first is None:
            raise ValueError("no frames: the iterable given to the 'frames' handler was empty")
        path.mkdir(parents=True)  # not exist_ok: never mix new frames with old ones
        tee: _Tee | None = None
        try:
            if settings is not None:
                tee = _Tee(path / _video_name(settings), first, settings)
            numbered = enumerate(chain([first], frames))
            if pillow_args:
                options = {"compress_level": compress_level, **pillow_args}
                _save_with_pillow(numbered, path, options, tee)
            else:
                _save_fast(numbered, path, compress_level, tee)
            if tee is not None:
                tee.finish()
        except BaseException:
            if tee is not None:
                tee.abort()
            remove_quietly(path)
            raise
        finally:
            frames.close()  # and so the producer, also when saving stopped early


def encoded_alongside(sequence: FrameSequence, settings: Mp4Settings) -> Path | None:
    """The video encoded with `settings` while saving exactly the frames of `sequence`, if any.

    Not if a frame file changed after the video was finished (it is finished last).
    """
    made = sequence.directory / _video_name(settings)
    return made if made.is_file() and _of_these_frames(made, sequence) else None


def encoded_alongside_at_another_rate(
    sequence: FrameSequence, settings: Mp4Settings
) -> tuple[Path, Fraction] | None:
    """A video encoded as `settings` say but at another frame rate, with these frames; its rate."""
    for made in sorted(sequence.directory.glob(".video-*fps-*.mp4")):
        found = re.fullmatch(r"\.video-(\d+)(?:_(\d+))?fps-.*\.mp4", made.name)
        if found is None:
            continue
        rate = Fraction(int(found[1]), int(found[2] or 1))
        at_rate = dataclasses.replace(settings, fps=float(rate))
        if made.name == _video_name(at_rate) and _of_these_frames(made, sequence):
            return made, rate
    return None


def _of_these_frames(made: Path, sequence: FrameSequence) -> bool:
    """Whether the video `made` beside the frames encodes exactly `sequence`, unchanged since."""
    if sequence.paths != _png_files(sequence.directory):
        return False
    finished = made.stat().st_mtime_ns
    return all(p.stat().st_mtime_ns <= finished for p in sequence.paths)


def _video_settings(video: Mapping[str, Any] | bool | None) -> Mp4Settings | None:
    if video is None or video is False:
        return None
    if video is True:
        return Mp4Settings()
    if not isinstance(video, Mapping):
        raise ValueError(f"video must be mp4 settings such as {{fps: 30}}, or true; got {video!r}")
    return Mp4Settings.of(**video)


def _video_name(settings: Mp4Settings | None) -> str:
    return f".video-{settings.key() if settings else ''}.mp4"


class _Tee:
    """The frames also sent to ffmpeg as they are saved; a failure here costs only the video."""

    def __init__(self, path: Path, first: np.ndarray, settings: Mp4Settings) -> None:
        height, width = first.shape[:2]
        self.size = (height, width)
        self.encoder: Encoder | None = None
        try:
            self.encoder = Encoder(
                raw_input_args(width, height, settings), settings.output_args(width, height), path
            )
        except OSError as exc:  # no ffmpeg to run
            self._give_up(str(exc))

    def write(self, frame: np.ndarray) -> None:
        if self.encoder is None:
            return
        if frame.shape[:2] != self.size:
            self._give_up(f"frame {self.encoder.count} has another size than frame 0")
            return
        try:
            self.encoder.write(frame)
        except DataError as exc:
            self._give_up(exc.message)

    def finish(self) -> None:
        if self.encoder is None:
            return
        try:
            self.encoder.finish()
        except DataError as exc:
            self._give_up(exc.message)

    def abort(self) -> None:
        if self.encoder is not None:
            self.encoder.abort()
            self.encoder = None

    def _give_up(self, reason: str) -> None:
        log.warning("no video encoded along with the frames (%s); the frames are saved", reason)
        self.abort()


def _save_fast(
    numbered: Iterator[tuple[int, np.ndarray]], path: Path, level: int, tee: _Tee | None
) -> None:
    writer = PngWriter(level, threads=min(2, os.cpu_count() or 1))
    try:
        for index, frame in numbered:
            writer.write(frame, path / FRAME_NAME.format(index=index))
            if tee is not None:
                tee.write(frame)
    except BaseException:
        writer.abort()
        raise
    writer.close()


def _save_with_pillow(
    numbered: Iterator[tuple[int, np.ndarray]],
    path: Path,
    options: dict[str, Any],
    tee: _Tee | None,
) -> None:
    from PIL import Image

    for index, frame in numbered:
        Image.fromarray(frame).save(path / FRAME_NAME.format(index=index), "PNG", **options)
        if tee is not None:
            tee.write(frame)
