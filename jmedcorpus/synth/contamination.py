"""Benchmark contamination (reason ``synth_contaminated``): an item is contaminated when ≥ 20 %
of its 10-token MeCab n-grams occur in the benchmark (the defaults of
:class:`ContaminationIndex`, whose docstring says why).
"""

from __future__ import annotations

import json

import numpy as np
import xxhash

from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.text.exam import benchmark_tokens

_MULT = np.uint64(0x9E3779B97F4A7C15)


def ngram_hashes(tokens: list[str], n: int) -> np.ndarray:
    """64-bit hashes of the token n-grams (none when fewer than ``n`` tokens): xxh3 of each
    token, then a polynomial over the window, the same in every process (unlike ``hash()``)."""
    count = len(tokens) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    words = np.fromiter(
        (xxhash.xxh3_64_intdigest(t.encode("utf-8")) for t in tokens), dtype=np.uint64, count=len(tokens)
    )
    h = np.zeros(count, dtype=np.uint64)
    for k in range(n):
        h = h * _MULT + words[k : k + count]
    return h ^ (h >> np.uint64(29))


class ContaminationIndex:
    """N-grams of MeCab tokens of a benchmark (e.g. IgakuQA questions with their options);
    a text is contaminated when at least ``min_fraction`` of its n-grams occur in the benchmark
    (reason ``synth_contaminated``).

    Why 10 tokens and a share rather than "any shared 13-gram" (GPT-3's rule for English words):
    MeCab tokens are short (``さ れ``, ``と し て``), so 13 tokens are ~20 characters, and exam
    questions share template clauses of that length (``心音と呼吸音とに異常を認めない。腹部は平坦、
    軟で、肝・脾を触知しない``, 20+ tokens, in 184 of 2,000). Measured on IgakuQA 2018-2022
    (2,000 questions, median 105 tokens), index built from 2018-2021, 2022 held out as new text
    in exam style: "any shared 13-gram" flags 142/400 of the new questions; 10-grams with a 20 %
    share flag 15/400 (3.8 %, among them questions the exam re-used almost verbatim), while
    catching 500/500 copied questions, 490/500 copied stems without their options and 495/500
    copies with one token in 15 changed. A lost generated item costs little, a leaked
    benchmark question a lot, hence the low share. ``min_fraction=0`` gives the "any n-gram"
    rule. A text shorter than ``n`` tokens is never contaminated (nothing to compare).

    Hashes are 64-bit (xxh3) in a sorted numpy array (8 bytes per n-gram: IgakuQA's 2,000
    questions take ~1.6 MB), so the index pickles to Ray workers and is the same everywhere.
    """

    def __init__(self, hashes: np.ndarray, *, n: int = 10, min_fraction: float = 0.2) -> None:
        if not 1 <= n <= 64:
            raise ValueError(f"n must be between 1 and 64, got {n}")
        self.min_fraction = check_fraction("min_fraction", min_fraction)
        self.n = n
        self.hashes = np.unique(np.asarray(hashes, dtype=np.uint64))

    @classmethod
    def from_texts(cls, texts, *, n: int = 10, min_fraction: float = 0.2) -> ContaminationIndex:
        parts = [ngram_hashes(benchmark_tokens(t), n) for t in texts]
        hashes = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
        return cls(hashes, n=n, min_fraction=min_fraction)

    @classmethod
    def from_jsonl(
        cls, path, text_field: str = "text", n: int = 10, *, min_fraction: float = 0.2
    ) -> ContaminationIndex:
        """Index the ``text_field`` of every record of a JSONL file; a record without it is a
        ``ValueError`` naming the line (not its text)."""
        texts = []
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    raise ValueError(f"{path}:{lineno}: not a JSON object") from None
                value = record.get(text_field) if isinstance(record, dict) else None
                if not isinstance(value, str):
                    raise ValueError(f"{path}:{lineno}: no string field {text_field!r}")  # noqa: TRY004 - bad data
                texts.append(value)
        return cls.from_texts(texts, n=n, min_fraction=min_fraction)

    def __len__(self) -> int:
        return len(self.hashes)

    def overlap(self, text: str) -> float:
        """Share of the text's n-grams found in the benchmark (0 for a text shorter than n)."""
        grams = ngram_hashes(benchmark_tokens(text), self.n)
        if not len(grams) or not len(self.hashes):
            return 0.0
        pos = np.minimum(np.searchsorted(self.hashes, grams), len(self.hashes) - 1)
        return float((self.hashes[pos] == grams).mean())

    def contaminated(self, text: str) -> bool:
        overlap = self.overlap(text)
        return overlap > 0 and overlap >= self.min_fraction
