"""One run: its plan, the runner, run directories, the manifest, orphans and resume hints."""
