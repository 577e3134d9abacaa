"""The ``boilerplate_lines`` step (optional): remove lines that recur across many documents, such
as copyright lines, 利益相反 (conflict of interest) statements and journal running headers.

How ``jmedcorpus build`` runs it: each unit writes a key per candidate line of each surviving
document (once per document), partitioned by key into buckets; one Ray task per bucket counts in
how many documents each key occurs and keeps the keys at or above ``min_documents``; the publish
stage then deletes those lines from every kept document and drops a document left with fewer
than ``min_remaining_chars`` characters (reason ``boilerplate_only``).

It runs after deduplication, on purpose: copies of one document would otherwise make that
document's own lines look like boilerplate.

A line's key ignores spaces and maps every digit run to 0, so a running header matches across
volumes and pages (``日本内科学会雑誌 第110巻 第3号`` = ``日本内科学会雑誌 第111巻 第12号``). Only
lines near the start or end of a document are candidates by default (``edge_lines``): that is
where headers and footers live, and a common clinical sentence in the middle of a report
(``既往歴：特記事項なし。``) is content, however often it occurs.
"""

from __future__ import annotations

import os
import re
from typing import ClassVar

import numpy as np
import xxhash
from datatrove.pipeline.base import PipelineStep

from jmedcorpus.constants import BOILERPLATE_ONLY
from jmedcorpus.io.parquet import save_partitioned
from jmedcorpus.registry import register_step

LINE_ENTRY = np.dtype([("key", "<u8"), ("row", "<u4")])
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9０-９]+")


@register_step("boilerplate_lines")
class BoilerplateLines(PipelineStep):
    """Remove lines found in at least ``min_documents`` documents of the corpus; drop documents
    with nothing left (reason ``boilerplate_only``).

    Args:
        min_documents: a line is boilerplate when this many documents contain it (default 20).
        edge_lines: only the first and last this many lines of a document are candidates
            (default 3); 0 makes every line a candidate.
        min_line_chars: shorter lines (without spaces) are never boilerplate, so that short
            option lines such as ``a. 肺炎`` survive (default 8).
        min_remaining_chars: a document left with fewer non-space characters is dropped
            (default 20, the ``doc_length`` minimum of the default recipe).
    """

    name = "repeated boilerplate lines"
    type = "🫂 - DEDUP"
    is_global = True
    signal_fields: ClassVar[dict[str, str]] = {"boilerplate_lines_removed": "int64"}
    signal_kinds: ClassVar[dict[str, str]] = {"boilerplate_lines_removed": "sparse_count"}
    reason = BOILERPLATE_ONLY

    def __init__(
        self,
        *,
        min_documents: int = 20,
        edge_lines: int = 3,
        min_line_chars: int = 8,
        min_remaining_chars: int = 20,
    ) -> None:
        super().__init__()
        if min_documents < 2:
            raise ValueError(f"min_documents must be >= 2, got {min_documents}")
        if edge_lines < 0 or min_line_chars < 1 or min_remaining_chars < 0:
            raise ValueError("edge_lines and min_remaining_chars must be >= 0 and min_line_chars >= 1")
        self.min_documents, self.edge_lines = min_documents, edge_lines
        self.min_line_chars, self.min_remaining_chars = min_line_chars, min_remaining_chars

    def line_keys(self, text: str) -> list[tuple[int, int]]:
        """``(line index, key)`` of the candidate lines of ``text``.

        >>> step = BoilerplateLines(edge_lines=1)
        >>> [i for i, _ in step.line_keys("日本内科学会雑誌 第110巻\\n本文の一行目である。\\n本文の最後の行である。")]
        [0, 2]
        >>> step.line_keys("日本内科学会雑誌 第110巻")[0][1] == step.line_keys("日本内科学会雑誌　第111巻")[0][1]
        True
        """
        lines = text.split("\n")
        n, k = len(lines), self.edge_lines
        indices = range(n) if k == 0 or n <= 2 * k else [*range(k), *range(n - k, n)]
        out = []
        for i in indices:
            compact = _SPACES.sub("", lines[i])
            if len(compact) >= self.min_line_chars:
                out.append(
                    (i, xxhash.xxh3_64_intdigest(_DIGITS.sub("0", compact).encode("utf-8", "surrogatepass")))
                )
        return out

    def strip(self, text: str, boilerplate: set[int]) -> tuple[str, int]:
        """``text`` without its boilerplate lines, and how many lines went."""
        drop = {i for i, key in self.line_keys(text) if key in boilerplate}
        if not drop:
            return text, 0
        lines = text.split("\n")
        return "\n".join(line for i, line in enumerate(lines) if i not in drop).strip(), len(drop)

    def too_short(self, text: str) -> bool:
        return len(_SPACES.sub("", text)) < self.min_remaining_chars

    def collector(self, unit_dir: str, n_buckets: int) -> BoilerplateCollector:
        return BoilerplateCollector(self, unit_dir, n_buckets)

    def run(self, data, rank: int = 0, world_size: int = 1):
        """Direct use as a datatrove step: count over the whole (buffered) stream, then strip."""
        docs = list(data)
        counts: dict[int, int] = {}
        for doc in docs:
            for key in {key for _, key in self.line_keys(doc.text)}:
                counts[key] = counts.get(key, 0) + 1
        boilerplate = {k for k, c in counts.items() if c >= self.min_documents}
        for doc in docs:
            self.stat_update("total")
            doc.text, removed = self.strip(doc.text, boilerplate)
            doc.metadata["boilerplate_lines_removed"] = removed
            if removed and self.too_short(doc.text):
                self.stat_update("dropped", f"dropped_{self.reason}")
                continue
            self.stat_update("forwarded")
            yield doc


class BoilerplateCollector:
    """Writes ``boilerplate-bNNNN.npy``: (line key, row) of each candidate line, once per document."""

    def __init__(self, step: BoilerplateLines, unit_dir: str, n_buckets: int) -> None:
        self.step, self.unit_dir, self.n_buckets = step, unit_dir, n_buckets
        self.keys: list[int] = []
        self.rows: list[int] = []

    def add(self, row: int, doc, data: bytes) -> None:
        for key in {key for _, key in self.step.line_keys(doc.text)}:
            self.keys.append(key)
            self.rows.append(row)

    def close(self) -> dict:
        entries = np.empty(len(self.keys), dtype=LINE_ENTRY)
        entries["key"] = np.array(self.keys, dtype=np.uint64)
        entries["row"] = np.array(self.rows, dtype=np.uint32)
        pattern = os.path.join(self.unit_dir, "boilerplate-b{:04d}.npy")
        return {"buckets": save_partitioned(entries, self.n_buckets, pattern)}
