"""The bottom layer: markers, the registry, the data hub, discovery and the project."""
