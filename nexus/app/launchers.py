"""Adjustments to Hydra's launcher settings before a sweep starts them."""

from __future__ import annotations

import os

from omegaconf import DictConfig, open_dict, read_write

__all__ = ["prepare_launcher"]


def prepare_launcher(config: DictConfig) -> None:
    """Make `hydra/launcher=ray` join an existing cluster when an address is given.

    hydra-ray-launcher sets `ray.init(object_store_memory=...)` unless the config names one,
    and Ray refuses that setting when it connects to a running cluster. A given address
    (or `$RAY_ADDRESS`) means such a cluster, so the setting is left to the cluster.
    """
    launcher = config.hydra.get("launcher")
    if launcher is None or "ray_launcher" not in str(launcher.get("_target_", "")):
        return
    init = launcher.ray.init
    joins = init.get("address") or os.environ.get("RAY_ADDRESS")
    if joins and "object_store_memory" not in init:
        with read_write(init), open_dict(init):
            init.object_store_memory = None
