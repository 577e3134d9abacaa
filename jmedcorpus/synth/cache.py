"""The request cache: a killed ``synth`` run re-run with the same command does not send a
request twice.

Every completion the engine returns is appended, as one JSON line, to
``OUT/.cache/responses-<pid>-<time>.jsonl`` (a new file per run, so two runs never interleave
lines), keyed by :meth:`Request.cache_key` (sha256 of model, messages, schema, sampling and
seed). Lines are flushed as they are written and fsynced at every chunk end; a run killed
mid-line leaves one torn last line, which the next run skips. Only served completions are cached:
a request that failed (HTTP error, timeout) is sent again by a later run.

The cache holds generated text (it is output, not a log) and lives inside the output directory.
"""

from __future__ import annotations

import glob
import json
import os
import threading
import time

from jmedcorpus.synth.engines.base import Completion

CACHE_DIR = ".cache"
_FIELDS = ("text", "finish_reason", "prompt_tokens", "completion_tokens", "attempts")


class RequestCache:
    """``get(cache_key) -> Completion | None`` over every earlier run's lines; ``put`` appends."""

    def __init__(self, out_dir: str) -> None:
        self.dir = os.path.join(out_dir, CACHE_DIR)
        os.makedirs(self.dir, exist_ok=True)
        self._entries: dict[str, dict] = {}
        self.torn_lines = 0
        for path in sorted(glob.glob(os.path.join(self.dir, "responses-*.jsonl"))):
            self._load(path)
        self._path = os.path.join(self.dir, f"responses-{os.getpid()}-{time.time_ns()}.jsonl")
        self._file = None
        self._lock = threading.Lock()

    def _load(self, path: str) -> None:
        with open(path, "rb") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                    self._entries[entry["key"]] = entry
                except (ValueError, KeyError, TypeError):
                    self.torn_lines += 1  # the last line of a killed run

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, cache_key: str, request_key: str) -> Completion | None:
        entry = self._entries.get(cache_key)
        if entry is None:
            return None
        # The row of a resumed run is the row of the run that generated it, attempts included.
        return Completion(request_key, **{f: entry[f] for f in _FIELDS})

    def put(self, cache_key: str, completion: Completion) -> None:
        if completion.error is not None:
            return  # failures are retried by the next run, not remembered
        entry = {"key": cache_key, **{f: getattr(completion, f) for f in _FIELDS}}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:  # engine threads of several chunks write at once: whole lines only
            self._entries[cache_key] = entry
            if self._file is None:
                self._file = open(self._path, "a", encoding="utf-8")  # noqa: SIM115 - kept open across chunks
            self._file.write(line)
            self._file.flush()

    def sync(self) -> None:
        """Make everything written so far durable (called at each chunk end)."""
        with self._lock:
            if self._file is not None:
                os.fsync(self._file.fileno())

    def close(self) -> None:
        self.sync()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
