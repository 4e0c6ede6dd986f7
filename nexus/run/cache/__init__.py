"""Incremental runs: a step whose code, parameters and inputs are unchanged is reused.

`key` builds a step's key record, `code` the code and package part of it, `hashing` the
content hashes, `store` the index of earlier results under `outputs/`, `explain` says why a
step runs, `report` what the user sees, and `session` ties them together for one run.
"""

from nexus.run.cache.hashing import HASH_NAME, content_hash
from nexus.run.cache.key import SCHEMA, Uncacheable, key_of
from nexus.run.cache.report import Decision, summary
from nexus.run.cache.session import CacheSession

__all__ = [
    "HASH_NAME",
    "SCHEMA",
    "CacheSession",
    "Decision",
    "Uncacheable",
    "content_hash",
    "key_of",
    "summary",
]
