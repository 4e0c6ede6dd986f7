"""The resolvers nexus adds to Hydra's config: `${nexus.unique_dir:parent,stamp}`."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

__all__ = ["DirClaims", "register_resolvers"]


class DirClaims:
    """The run directories one command claimed, each created here, atomically."""

    def __init__(self) -> None:
        self._claimed: dict[tuple[str, str], str] = {}

    def claim(self, parent: str, stamp: str) -> str:
        """Create and return `parent/stamp`, or `parent/stamp_1`, `_2`, ... if taken.

        Two runs started in the same second, in two processes, never share a directory.
        Asked again (Hydra resolves the run directory more than once), the answer is the same.
        """
        key = (parent, stamp)
        if key not in self._claimed:
            base = Path(parent)
            base.mkdir(parents=True, exist_ok=True)
            for n in range(10_000):
                candidate = base / (stamp if n == 0 else f"{stamp}_{n}")
                try:
                    candidate.mkdir()
                except FileExistsError:
                    continue
                self._claimed[key] = str(candidate)
                break
        return self._claimed[key]


def register_resolvers() -> None:
    """Make `${nexus.unique_dir:parent,stamp}` available to Hydra's config, for a new command.

    Each call starts afresh: the command's runs claim new directories.
    """
    OmegaConf.register_new_resolver(
        "nexus.unique_dir", DirClaims().claim, use_cache=True, replace=True
    )
