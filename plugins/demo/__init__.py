"""The demo case: replays late, noisy 2-D measurements, compensates the latency, renders a video.

Modules: `data_generator` (the case's raw data), `compensator`, `renderer`, `video` (one step
each), and `canvas`, which draws a frame. `workers` draws the frames in parallel processes
through shared memory: an advanced part, for speed; a plugin needs nothing like it.
"""
