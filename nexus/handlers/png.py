"""Writing RGB frames as PNG files quickly, on background threads.

Pillow picks a PNG filter for every row by trying all five, which costs two to three times
the compression itself. Rendered frames compress as well with the 'up' filter on every row
(each row minus the one above), which numpy computes at once. numpy, zlib and file writes
release the GIL, so a few threads encode frames while the caller produces the next ones.
"""

from __future__ import annotations

import struct
import zlib
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["PngWriter", "encode_png", "png_size"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2


def encode_png(frame: np.ndarray, compress_level: int = 1) -> bytes:
    """A C-contiguous (H, W, 3) uint8 array as the bytes of an 8-bit RGB PNG file."""
    height, width, _ = frame.shape
    flat = frame.reshape(height, width * 3)
    rows = np.empty((height, width * 3 + 1), dtype=np.uint8)
    rows[:, 0] = _FILTER_UP
    rows[0, 1:] = flat[0]  # the first row has no row above: 'up' leaves it as it is
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])  # modulo 256, as PNG wants
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join(
        (
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.data, compress_level)),
            _chunk(b"IEND", b""),
        )
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG file's header; None when `data` does not start like a PNG."""
    if len(data) < 24 or not data.startswith(_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


class PngWriter:
    """Encodes and writes frames on `threads` threads, holding at most `ahead` unwritten.

    `write` returns as soon as the frame is queued (it waits only when `ahead` frames are
    pending) and raises the error of any write that failed; `close` waits for the rest.
    """

    def __init__(self, compress_level: int = 1, threads: int = 2, ahead: int = 4) -> None:
        if not 0 <= compress_level <= 9:
            raise ValueError(f"compress_level must be 0-9, got {compress_level!r}")
        from concurrent.futures import ThreadPoolExecutor  # here: discovery imports this module

        self._level = compress_level
        self._ahead = max(ahead, threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="nexus-png")
        self._pending: deque[Future[None]] = deque()

    def write(self, frame: np.ndarray, path: Path) -> None:
        """Queue `frame` to be written as a PNG file at `path`."""
        while len(self._pending) >= self._ahead or (self._pending and self._pending[0].done()):
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write, frame, path))

    def close(self) -> None:
        """Wait for every queued frame to be written; raises the first failure."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop the frames not yet written; wait for the ones being written."""
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)

    def _write(self, frame: np.ndarray, path: Path) -> None:
        path.write_bytes(encode_png(frame, self._level))
