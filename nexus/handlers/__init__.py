"""The built-in data handlers: csv, parquet, json, frames (a directory of PNGs), mp4, and the
recordings mcap, rosbag (ROS 1 and 2) and hdf5, one topic or dataset a logical name.

A handler is a class with `name`, `extensions`, `load(path, **args)` and `save(obj, path, **args)`.
Handlers whose saved objects are consumed while saving (iterators of frames) set
`reload_after_save = True`, so the next step gets the saved data back, lazily, instead of the
spent object. A handler may have
`default_args(logical_name)`, the handler_args a case need not give (the recordings' topic);
`check(path, **args)`, which the plan calls on each input before any step runs (a DataError
is a problem of the plan); and `requires`, the (module, package) pairs it imports, so `list`
and the plan can say what is missing.
"""

from nexus.handlers.frames import FrameSequence, FramesHandler
from nexus.handlers.hdf5 import Hdf5Handler
from nexus.handlers.json_handler import JsonHandler
from nexus.handlers.mcap_handler import McapHandler
from nexus.handlers.rosbag import RosbagHandler
from nexus.handlers.tabular import CsvHandler, ParquetHandler
from nexus.handlers.video import Mp4Handler, Video

__all__ = [
    "CsvHandler",
    "FrameSequence",
    "FramesHandler",
    "Hdf5Handler",
    "JsonHandler",
    "McapHandler",
    "Mp4Handler",
    "ParquetHandler",
    "RosbagHandler",
    "Video",
]
