"""The command line: dispatch, error reporting, docs, list, new-case and generate-data."""
