"""The framework's default settings, stored in Hydra's ConfigStore at start-up."""
