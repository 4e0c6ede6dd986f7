"""`python -m nexus ARGS`, ending the way proposed for nexus/__main__.py: without the teardown.

    python bench/fast_exit.py ARGS...

After nexus's main() returns: join non-daemon threads, run the atexit handlers (logging
flushes and closes its files, multiprocessing and mlflow clean up), flush stdout and
stderr, then os._exit(code). What that skips is the interpreter freeing every module and
object one by one: ~0.2 s after a demo run, ~0.8 s once mlflow is loaded (measured with
bench/tracking.py --fast-exit).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

from nexus.cli import main

if __name__ == "__main__":
    code = main(sys.argv[1:])
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
