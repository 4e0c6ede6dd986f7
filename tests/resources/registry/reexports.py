"""A module that imports a built-in handler (to use or subclass it) and defines nothing."""

from nexus.handlers.tabular import CsvHandler

__all__ = ["CsvHandler"]
