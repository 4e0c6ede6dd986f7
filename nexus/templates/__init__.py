"""Files that `python -m nexus new-case` copies into a project: a case and its example step."""
