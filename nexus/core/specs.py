"""What a handler is: the protocol a handler class follows, and the spec the registry keeps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["Handler", "HandlerSpec"]


@runtime_checkable
class Handler(Protocol):
    """A data format: loads a path into an object, and saves an object to a path."""

    def load(self, path: Path, **args: Any) -> Any:
        """Read the object stored at `path`."""

    def save(self, obj: Any, path: Path, **args: Any) -> None:
        """Write `obj` to `path`."""


@dataclass(frozen=True)
class HandlerSpec:
    """A handler class and the instance the DataHub uses."""

    name: str
    extensions: tuple[str, ...]
    instance: Handler
    cls: type
    origin: str = ""
