"""What decides whether earlier work can be reused: short hashes of settings and file stamps.

``build``, ``synth`` and ``tokenize`` name their work folders and manifests by these, so a re-run
with the same settings and the same input files resumes, and any change redoes the work."""

from __future__ import annotations

import hashlib
import json
import os


def fingerprint(*parts) -> str:
    """16 hex digits of the SHA-256 of ``parts`` as sorted JSON (anything else as ``str``).

    >>> fingerprint({"b": 1, "a": 2}) == fingerprint({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_stamp(path: str) -> list:
    """``[path, size, mtime_ns]``: what says a file changed, for fingerprints."""
    return [path, os.path.getsize(path), os.stat(path).st_mtime_ns]
