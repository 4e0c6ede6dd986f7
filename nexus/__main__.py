"""`python -m nexus`."""

from nexus.cli import run

if __name__ == "__main__":
    run()
