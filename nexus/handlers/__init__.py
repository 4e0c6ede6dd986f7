"""The built-in data handlers: csv, parquet, json, frames (a directory of PNGs) and mp4.

A handler is a class with `name`, `extensions`, `load(path, **args)` and `save(obj, path, **args)`.
Handlers that write a directory set `is_directory = True`; handlers whose saved objects are
consumed while saving (iterators of frames) set `reload_after_save = True`, so the next step
gets the saved data back, lazily, instead of the spent object.
"""

from nexus.handlers.frames import FrameSequence, FramesHandler
from nexus.handlers.json_handler import JsonHandler
from nexus.handlers.tabular import CsvHandler, ParquetHandler
from nexus.handlers.video import Mp4Handler, Video

__all__ = [
    "CsvHandler",
    "FrameSequence",
    "FramesHandler",
    "JsonHandler",
    "Mp4Handler",
    "ParquetHandler",
    "Video",
]
