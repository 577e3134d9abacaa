"""Benchmark contamination (reason ``synth_contaminated``): an item is contaminated when ≥ 20 %
of its 10-token MeCab n-grams occur in the benchmark (the defaults of
:class:`ContaminationIndex`, whose docstring says why).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.text.benchmark_index import BenchmarkIndex


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

    The n-grams live in the build's benchmark index (:class:`BenchmarkIndex` with MeCab-token
    units: 64-bit hashes in a sorted numpy array, 12 bytes per n-gram), so the build and synth
    hash benchmark text one way; the index pickles to Ray workers and is the same everywhere.
    """

    def __init__(self, index: BenchmarkIndex, *, min_fraction: float = 0.2) -> None:
        if index.unit != "mecab":
            raise ValueError(f"a contamination index counts MeCab-token n-grams, not {index.unit!r}")
        self.min_fraction = check_fraction("min_fraction", min_fraction)
        self.index, self.n = index, index.n
        self.distinct = len(np.unique(index.keys))

    @classmethod
    def from_texts(cls, texts, *, n: int = 10, min_fraction: float = 0.2) -> ContaminationIndex:
        if not 1 <= n <= 64:
            raise ValueError(f"n must be between 1 and 64, got {n}")
        items = [SimpleNamespace(id=str(i), text=t, stem=t, options=()) for i, t in enumerate(texts)]
        index = BenchmarkIndex.build(items, n=n, unit="mecab", min_part_ngrams=0)
        return cls(index, min_fraction=min_fraction)

    @classmethod
    def from_jsonl(
        cls, paths, text_field: str = "text", n: int = 10, *, min_fraction: float = 0.2
    ) -> ContaminationIndex:
        """Index the ``text_field`` of every record of one or more JSONL files; a record without
        it is a ``ValueError`` naming the file and line (not its text)."""
        texts = []
        for path in [paths] if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__") else paths:
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
        return self.distinct

    def overlap(self, text: str) -> float:
        """Share of the text's n-grams found in the benchmark (0 for a text shorter than n)."""
        return self.index.share(self.index.text_grams(text))

    def contaminated(self, text: str) -> bool:
        overlap = self.overlap(text)
        return overlap > 0 and overlap >= self.min_fraction
