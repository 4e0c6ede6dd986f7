"""`python -m nexus`."""

import sys

from nexus.cli import main

if __name__ == "__main__":
    sys.exit(main())
