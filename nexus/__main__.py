"""`python -m nexus`."""

import sys

try:
    from nexus.cli.main import run
except KeyboardInterrupt:  # Ctrl-C while Python loads nexus: a message, not a traceback
    sys.stderr.write("nexus: interrupted\n")
    sys.exit(130)

if __name__ == "__main__":
    run()
