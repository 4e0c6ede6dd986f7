"""The config tree: case files, framework settings, Hydra composition, parameter validation."""
