"""The names inside an output folder, in one place: ``build`` writes them, ``synth`` and
``tokenize`` write the same kinds, ``stats``, ``inspect`` and the object-store upload read them.

::

    OUT/.jmedcorpus        written first: the folder belongs to jmedcorpus (a re-run may reuse it)
    OUT/data/              kept documents, train-XXXXX-of-YYYYY.parquet
    OUT/removed/<step>/    removed documents with step, reason, signals
    OUT/quarantine/        unreadable input records
    OUT/stats/stats.json   corpus statistics
    OUT/.work/             resumable work of an unfinished run (deleted after a finished one)
    OUT/manifest.json      written last: an output with a manifest is complete
"""

from __future__ import annotations

import os

MARKER = ".jmedcorpus"
DATA = "data"
REMOVED = "removed"
QUARANTINE = "quarantine"
STATS_FILE = os.path.join("stats", "stats.json")
WORK = ".work"
MANIFEST = "manifest.json"
