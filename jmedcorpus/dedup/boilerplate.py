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

import glob
import os
import re
from typing import ClassVar

import numpy as np
import pyarrow as pa
import xxhash

from jmedcorpus.constants import BOILERPLATE_ONLY, META_CHARS, META_MECAB_TOKENS
from jmedcorpus.dedup.stage import (
    Corpus,
    GlobalStep,
    Removal,
    Runner,
    StageResult,
    bucket_calls,
    bucket_entries,
)
from jmedcorpus.io.parquet import atomic_save_npy, save_partitioned
from jmedcorpus.registry import register_step

LINE_ENTRY = np.dtype([("key", "<u8"), ("row", "<u4")])
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9０-９]+")


@register_step("boilerplate_lines")
class BoilerplateLines(GlobalStep):
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
    signal_fields: ClassVar[dict[str, str]] = {"boilerplate_lines_removed": "int64"}
    signal_kinds: ClassVar[dict[str, str]] = {"boilerplate_lines_removed": "sparse_count"}
    reason = BOILERPLATE_ONLY
    _why = "copies of a document would make its own lines look like boilerplate"
    must_follow: ClassVar[dict[str, str]] = {"exact_dedup": _why, "minhash_dedup": _why}

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

    def run_stage(self, name: str, corpus: Corpus, n_buckets: int, work: str, run: Runner) -> StageResult:
        """One task per key bucket finds the frequent line keys; nothing is removed before publish."""
        keys_dir = os.path.join(work, f"keys-{name}")
        calls = bucket_calls(corpus, n_buckets, self.min_documents, keys_dir)
        counted = run(boilerplate_bucket, calls, f"{name} buckets").values()
        details = {
            "boilerplate_lines": sum(c["lines"] for c in counted),
            "documents_with_them": sum(c["occurrences"] for c in counted),
        }
        return StageResult(name, self, None, details, data_dir=keys_dir)

    def apply(self, table: pa.Table, stage: StageResult, unit: int) -> tuple[pa.Table, Removal | None, dict]:
        """Strip the boilerplate lines from every document; drop those left too short. Signal
        columns that measure the text (``chars``, ``mecab_tokens``) are recomputed for edited ones."""
        files = sorted(glob.glob(os.path.join(stage.data_dir, "boilerplate-keys-b*.npy")))
        keys = set(np.concatenate([np.load(f) for f in files] or [np.empty(0, np.uint64)]).tolist())
        texts = table.column("text").to_pylist()
        counts = [0] * len(texts)
        changed = []
        for i, text in enumerate(texts):
            new, counts[i] = self.strip(text, keys) if keys else (text, 0)
            if counts[i]:
                texts[i] = new
                changed.append(i)
        too_short = np.zeros(len(texts), dtype=bool)
        too_short[[i for i in changed if self.too_short(texts[i])]] = True
        dropped = table.filter(pa.array(too_short))  # as they were, before the edit
        table = _set_column(table, "text", pa.array(texts, pa.string()))
        table = _set_column(table, "boilerplate_lines_removed", pa.array(counts, pa.int64()))
        edited = [i for i in changed if not too_short[i]]
        if edited and META_CHARS in table.column_names:
            chars = table.column(META_CHARS).to_pylist()
            for i in edited:
                chars[i] = len(texts[i])
            table = _set_column(table, META_CHARS, pa.array(chars, table.schema.field(META_CHARS).type))
        if edited and META_MECAB_TOKENS in table.column_names:
            from jmedcorpus.text.mecab import get_tokenizer

            tokens = table.column(META_MECAB_TOKENS).to_pylist()
            for i in edited:
                tokens[i] = len(get_tokenizer().word_tokenize(texts[i]))
            kind = table.schema.field(META_MECAB_TOKENS).type
            table = _set_column(table, META_MECAB_TOKENS, pa.array(tokens, kind))
        n = int(too_short.sum())
        removal = Removal(dropped, pa.nulls(n, pa.string()), pa.nulls(n, pa.int64()), pa.array(["{}"] * n))
        counts = {"removed": n, "documents_changed": len(changed), "lines_removed": sum(counts)}
        return table.filter(pa.array(~too_short)), removal, counts

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


def boilerplate_bucket(
    bucket: int,
    units: list[tuple[int, str]],
    bases: np.ndarray,
    gone: np.ndarray,
    min_documents: int,
    out_dir: str,
) -> dict:
    """Count in how many surviving documents each line key of one bucket occurs; save the keys
    that reach ``min_documents`` as ``boilerplate-keys-bNNNN.npy``."""
    keys, _ = bucket_entries(f"boilerplate-b{bucket:04d}.npy", units, bases, gone)
    values, counts = np.unique(keys, return_counts=True)  # entries are unique per document
    frequent = counts >= min_documents
    atomic_save_npy(values[frequent], os.path.join(out_dir, f"boilerplate-keys-b{bucket:04d}.npy"))
    return {"lines": int(frequent.sum()), "occurrences": int(counts[frequent].sum())}


def _set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, name, values) if i >= 0 else table.append_column(name, values)
