"""The Hydra application: the task that runs one job, sweeps, objectives, launchers, logs."""
