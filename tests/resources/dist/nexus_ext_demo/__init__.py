"""An installed package that extends nexus through entry points."""
