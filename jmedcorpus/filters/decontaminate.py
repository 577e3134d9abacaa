"""Benchmark decontamination (the ``decontaminate`` step): drop documents, or only the lines, that
contain a benchmark question (IgakuQA, JMMLU-Med, JMED-LLM, …), recording which item matched.

Matching: text is NFKC-normalized, lower-cased and stripped of whitespace and punctuation
(``TOKEN_STRIP``, as for the synth contamination check), so width changes, inserted or removed
spaces and newlines do not change it. Each benchmark item yields up to three *entries*: the item
as published (stem + labelled options), its stem alone, and the n-grams inside each option (none
across an option boundary, so reordered or dropped options keep the others'); the last two only
when they have at least ``min_part_ngrams`` n-grams (short stems such as ``散瞳を認めるのはどれか。``
are too generic alone). A document contains an item when it holds at least ``min_item_fraction``
of one entry's distinct n-grams: a share of the *item's* n-grams, not "any shared n-gram", so a
different question that shares the exam's template clauses (``正しいのはどれか。``, ``腹部は平坦、
軟で、肝・脾を触知しない``) is kept.

Defaults chosen by ``bench/decontam_accuracy.py`` (IgakuQA 2018-2021 indexed, 2022 held out; see
bench/README.md): character 13-grams, ``min_part_ngrams=10``, ``min_item_fraction=0.7``. Characters
rather than MeCab tokens: MeCab segments the same words differently when spaces or newlines are
inserted or removed (MeCab 8-grams keep 32 % of re-spaced questions at 0.7, characters 100 %),
and it would tokenize the re-normalized text a second time (the ``mecab`` step's tokens are of
the un-NFKC'd text); characters need no tokenizer. ``unit="mecab"`` (``benchmark_tokens`` of
:mod:`jmedcorpus.text.exam`, as synth's contamination check uses) is kept for comparison.

Index: :class:`jmedcorpus.text.benchmark_index.BenchmarkIndex`, the one index of benchmark
n-grams that synth's contamination check uses too. It is built once per process from the files,
cached with ``functools.lru_cache`` keyed by (path, size, mtime) of each file and the parameters,
and kept out of the step's pickled state: a Ray worker builds it on its first unit (IgakuQA's
2,000 questions: ~0.7 s, ~9 MB: 12 bytes per n-gram entry) and reuses it for every later unit and
step object in that process; nothing of the index travels with tasks. Building it in the
constructor also makes a bad benchmark file a one-line recipe error before the build starts.
"""

from __future__ import annotations

import functools
import os
from typing import ClassVar

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import DECONTAM_BENCHMARK
from jmedcorpus.filters.benchmarks import load_benchmark
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.benchmark_index import (
    UNITS,
    BenchmarkIndex,
    unit_hashes,
    window_hashes,
)

META_DECONTAM_ITEM = "decontam_item"
META_DECONTAM_FRACTION = "decontam_fraction"
META_DECONTAM_REMOVED_CHARS = "decontam_removed_chars"

MODES = ("document", "passage")
# A line is removed in passage mode when this share of its characters lies in matched n-grams.
LINE_COVERAGE = 0.5


def _file_key(path: str) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        raise ValueError(f"{path}: no such benchmark file") from None
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _cached_index(files: tuple, n: int, unit: str, min_part_ngrams: int, fields: tuple) -> BenchmarkIndex:
    text_field, options_field, id_field = fields
    items = []
    for path, _size, _mtime in files:
        items.extend(
            load_benchmark(path, text_field=text_field, options_field=options_field, id_field=id_field)
        )
    return BenchmarkIndex.build(items, n=n, unit=unit, min_part_ngrams=min_part_ngrams)


def get_index(
    paths,
    *,
    n: int,
    unit: str = "char",
    min_part_ngrams: int = 10,
    text_field: str | None = None,
    options_field: str | None = None,
    id_field: str | None = None,
) -> BenchmarkIndex:
    """The process's index for these files (built on first use, rebuilt when a file changes)."""
    files = tuple(_file_key(p) for p in paths)
    return _cached_index(files, n, unit, min_part_ngrams, (text_field, options_field, id_field))


@register_step("decontaminate")
class BenchmarkDecontaminator(BaseFilter):
    """Remove documents that contain a benchmark question (or, with ``mode: passage``, the lines
    holding it), recording the matched item.

    A document contains an item when it holds ≥ ``min_item_fraction`` of the distinct character
    n-grams of the item as published, of its stem alone, or of its options in any order (module
    docstring), after NFKC, lower-casing and removing whitespace and punctuation. Measured by
    ``bench/decontam_accuracy.py`` (1,600 IgakuQA questions indexed, inserted into case
    reports): 100 % removed verbatim, width-changed and re-spaced, 100 % of stems of ≥ 30
    characters alone, 92 % with options reordered, 87 % with two options dropped; 0.75 % of
    reports holding a held-out 2022 question removed (3 of 400, one a question the exam re-used).
    Writes ``decontam_item`` (``<file name>:<item id>`` of the best match, null when none),
    ``decontam_fraction`` (its share) and ``decontam_removed_chars`` (characters removed in
    passage mode); reason ``decontam_benchmark``.

    Args:
        benchmarks: benchmark files (JSONL, CSV with a header, TSV, Parquet; layouts in
            :mod:`jmedcorpus.filters.benchmarks`).
        n: n-gram length in units (characters: 13, as measured; MeCab tokens: ~8), 3-64.
        min_item_fraction: share of an item's n-grams the document must contain, in (0, 1].
        mode: ``document`` drops the document; ``passage`` removes the lines where matched
            n-grams cover ≥ half the characters and keeps the rest (drops the document if a
            match remains or nothing is left).
        unit: ``char`` (default) or ``mecab``.
        min_part_ngrams: the stem alone and the options in any order get their own entries when
            they have at least this many n-grams (shorter stems, ``介入研究はどれか。``, are too
            generic alone).
        text_field, options_field, id_field: force the benchmark fields instead of detecting them.
        exclusion_writer: optional writer for dropped documents.
    """

    name = "benchmark decontamination"
    reasons: ClassVar[tuple[str, ...]] = (DECONTAM_BENCHMARK,)
    signal_fields: ClassVar[dict[str, str]] = {
        META_DECONTAM_ITEM: "string",
        META_DECONTAM_FRACTION: "float64",
        META_DECONTAM_REMOVED_CHARS: "int64",
    }
    signal_kinds: ClassVar[dict[str, str]] = {
        META_DECONTAM_FRACTION: "ratio",
        META_DECONTAM_REMOVED_CHARS: "sparse_count",
    }

    def __init__(
        self,
        *,
        benchmarks: list[str],
        n: int = 13,
        min_item_fraction: float = 0.7,
        mode: str = "document",
        unit: str = "char",
        min_part_ngrams: int = 10,
        text_field: str | None = None,
        options_field: str | None = None,
        id_field: str | None = None,
        exclusion_writer=None,
    ) -> None:
        super().__init__(exclusion_writer)
        if not benchmarks:
            raise ValueError("benchmarks must list at least one benchmark file")
        if not 3 <= n <= 64:
            raise ValueError(f"n must be between 3 and 64, got {n}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        if min_part_ngrams < 1:
            raise ValueError(f"min_part_ngrams must be >= 1, got {min_part_ngrams}")
        self.min_item_fraction = check_fraction("min_item_fraction", min_item_fraction)
        if self.min_item_fraction == 0:
            raise ValueError("min_item_fraction must be > 0")
        self.benchmarks = [str(p) for p in benchmarks]
        self.n, self.mode, self.unit, self.min_part_ngrams = n, mode, unit, min_part_ngrams
        self.fields = (text_field, options_field, id_field)
        self._index: BenchmarkIndex | None = None
        self.index  # noqa: B018 - build (or fetch the process's cached) index now: bad files fail here

    @property
    def index(self) -> BenchmarkIndex:
        if self._index is None:
            text_field, options_field, id_field = self.fields
            self._index = get_index(
                self.benchmarks,
                n=self.n,
                unit=self.unit,
                min_part_ngrams=self.min_part_ngrams,
                text_field=text_field,
                options_field=options_field,
                id_field=id_field,
            )
        return self._index

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_index"] = None  # rebuilt (once per process) from the files where it is unpickled
        return state

    def match(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n-gram hashes of the text, their entry fractions, matched entries)."""
        grams = window_hashes(unit_hashes(text, self.unit), self.n)
        fractions = self.index.fractions(grams)
        return grams, fractions, np.nonzero(fractions >= self.min_item_fraction)[0]

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        index = self.index
        _, fractions, matched = self.match(doc.text)
        best = int(np.argmax(fractions)) if len(fractions) else -1
        doc.metadata[META_DECONTAM_FRACTION] = float(fractions[best]) if best >= 0 else 0.0
        doc.metadata[META_DECONTAM_REMOVED_CHARS] = 0
        if not len(matched):
            doc.metadata[META_DECONTAM_ITEM] = None
            return True
        doc.metadata[META_DECONTAM_ITEM] = index.item_ids[index.entry_item[best]]
        if self.mode == "document":
            return False, DECONTAM_BENCHMARK
        kept = self._remove_lines(doc.text, matched)
        if kept is None or not kept.strip() or len(self.match(kept)[2]):
            return False, DECONTAM_BENCHMARK
        doc.metadata[META_DECONTAM_REMOVED_CHARS] = len(doc.text) - len(kept)
        doc.text = kept
        return True

    def _remove_lines(self, text: str, matched: np.ndarray) -> str | None:
        """``text`` without the lines mostly covered by n-grams of the matched entries."""
        lines = text.splitlines(keepends=True)
        per_line = [unit_hashes(line, self.unit) for line in lines]
        sizes = np.array([len(u) for u in per_line], dtype=np.int64)
        units = np.concatenate(per_line) if per_line else np.empty(0, dtype=np.uint64)
        grams = window_hashes(units, self.n)
        pos, entries = self.index.lookup(grams)
        starts = np.unique(pos[np.isin(entries, matched)])
        if not len(starts):
            return None
        cover = np.zeros(len(units) + 1, dtype=np.int64)
        np.add.at(cover, starts, 1)
        np.add.at(cover, starts + self.n, -1)
        covered = np.cumsum(cover[:-1]) > 0
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        csum = np.concatenate([[0], np.cumsum(covered)])
        share = csum[bounds[1:]] - csum[bounds[:-1]]
        drop = (sizes > 0) & (share >= LINE_COVERAGE * sizes)
        return "".join(line for line, d in zip(lines, drop) if not d)
