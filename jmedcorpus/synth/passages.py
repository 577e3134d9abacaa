"""Passages for question generation: documents cut at sentence boundaries, scored, sampled.

``jmedcorpus synth`` asks an LLM for licensing-exam-style and free-form questions about one
passage at a time. This module turns training shards into those passages:

1. :func:`split_passages` packs consecutive sentences
   (:func:`~jmedcorpus.text.sentences.sentence_spans`) into passages of
   ``min_tokens``-``max_tokens`` MeCab tokens (default 64-384), with exact character spans;
2. :func:`~jmedcorpus.text.medical.medical_density` scores each passage with a cheap, dictionary-free proxy for medical
   terminology;
3. :func:`select_passages` keeps the usable ones and draws a seeded sample that does not depend on
   input order, and counts why every other passage was left out;
4. :func:`passages_from_shards` streams the passages of ``OUT/data/train-*.parquet`` batch by batch.

Why 64-384 MeCab tokens (about 100-650 characters of clinical Japanese; a case report sentence is
30-60 tokens): a passage must hold one clinical fact pattern (presentation, findings, course)
with enough context to support a 5-option question and its distractors (under ~64 tokens it is a
sentence or two: a finding without its patient), and it must fit easily into a small model's
context next to the prompt, the few-shot examples and the answer (384 MeCab tokens, ~600
characters, stay well under 1,000 tokens of current LLM tokenizers).
"""

from __future__ import annotations

import hashlib
import heapq
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from jmedcorpus.text.charclass import japanese_ratio
from jmedcorpus.text.mecab import get_tokenizer
from jmedcorpus.text.medical import count_words_and_medical
from jmedcorpus.text.sentences import sentence_spans

DEFAULT_MIN_TOKENS = 64
DEFAULT_MAX_TOKENS = 384

# Reasons counted by select_passages, in the order they are tested (a passage counts once, under
# the first reason that applies).
SKIP_TOO_SHORT = "too_short"
SKIP_TOO_LONG = "too_long"
SKIP_NOT_JAPANESE = "japanese_ratio_low"
SKIP_LOW_MEDICAL_DENSITY = "medical_density_low"
SKIP_NOT_SAMPLED = "not_sampled"
SKIP_REASONS = (SKIP_TOO_SHORT, SKIP_TOO_LONG, SKIP_NOT_JAPANESE, SKIP_LOW_MEDICAL_DENSITY, SKIP_NOT_SAMPLED)


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences of one document.

    Attributes:
        doc_id: id of the document.
        index: passage number within the document (0, 1, ... in text order).
        text: exactly ``document_text[start:end]``.
        start, end: character span in the document text.
        tokens: MeCab tokens (the sum over its sentences, each tokenized alone).
        medical_density: :func:`medical_density` of the passage.
        signals: the document's signal columns (source, chars, language, ...), a copy per passage.
    """

    doc_id: str
    index: int
    text: str
    start: int
    end: int
    tokens: int
    medical_density: float
    signals: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        """Stable identifier ``"<doc_id>#<index>"`` (same document text and bounds, same key)."""
        return f"{self.doc_id}#{self.index}"


def _check_token_bounds(min_tokens: int, max_tokens: int) -> None:
    if min_tokens < 0:
        raise ValueError(f"min_tokens must be >= 0, got {min_tokens}")
    if max_tokens < 1 or max_tokens < min_tokens:
        raise ValueError(f"max_tokens must be >= 1 and >= min_tokens ({min_tokens}), got {max_tokens}")


def pack_sentences(counts: Sequence[int], *, min_tokens: int, max_tokens: int) -> list[tuple[int, int]]:
    """Group sentences, given their token counts, into passages: ``[start, end)`` sentence ranges.

    The rule of :func:`split_passages` on numbers alone:

    >>> pack_sentences([30, 30, 30, 30, 20], min_tokens=25, max_tokens=64)  # greedy; tail borrows
    [(0, 2), (2, 3), (3, 5)]
    >>> pack_sentences([10, 500, 10], min_tokens=20, max_tokens=64)  # long one alone; shorts dropped
    [(1, 2)]
    """
    _check_token_bounds(min_tokens, max_tokens)
    prefix = [0]
    for c in counts:
        prefix.append(prefix[-1] + c)

    def size(i: int, j: int) -> int:
        return prefix[j] - prefix[i]

    groups: list[tuple[int, int]] = []
    start, total = 0, 0
    for i, c in enumerate(counts):
        if c > max_tokens:  # an over-long sentence: its own passage, cut neither before nor inside
            if start < i:
                groups.append((start, i))
            groups.append((i, i + 1))
            start, total = i + 1, 0
            continue
        if total + c > max_tokens:
            groups.append((start, i))
            start, total = i, 0
        total += c
    if start < len(counts):
        groups.append((start, len(counts)))

    kept: list[tuple[int, int]] = []
    for i, j in groups:
        if size(i, j) < min_tokens and kept and kept[-1][1] == i:
            # Borrow trailing sentences of the passage before while it stays >= min_tokens (and
            # keeps a sentence) and this one stays <= max_tokens.
            p, k = kept[-1]
            while size(k, j) < min_tokens and k - 1 > p:
                if size(p, k - 1) < min_tokens or size(k - 1, j) > max_tokens:
                    break
                k -= 1
            if size(k, j) >= min_tokens:
                kept[-1] = (p, k)
                i = k
        if size(i, j) >= min_tokens:
            kept.append((i, j))
    return kept


def split_passages(
    doc_id: str,
    text: str,
    signals: dict | None = None,
    *,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> list[Passage]:
    """Cut ``text`` into passages of whole consecutive sentences, in order and without overlap.

    Rule (sentences from :func:`~jmedcorpus.text.sentences.sentence_spans`, each tokenized once
    with MeCab; a passage's ``tokens`` is the sum over its sentences):

    * greedy packing: sentences are added to the current passage while it stays within
      ``max_tokens``; the next sentence starts a new passage;
    * a sentence longer than ``max_tokens`` is never cut: it becomes a passage of its own, kept
      and recognizable by ``tokens > max_tokens`` (:func:`select_passages` skips it as
      ``too_long``);
    * a passage under ``min_tokens`` (the remainder at the end of the document, or before an
      over-long sentence) cannot simply merge into the passage before it: that one was closed
      because this one's first sentence did not fit. Instead it takes over trailing sentences of
      the passage before, one at a time, while that one keeps at least ``min_tokens`` and this one
      stays within ``max_tokens``; if it still has fewer than ``min_tokens`` it is dropped;
    * hence a document with fewer than ``min_tokens`` tokens gives no passages.

    A passage's span runs from its first sentence's start to its last sentence's end
    (``text[start:end] == passage.text``; whitespace between sentences is inside, around it not).

    Args:
        doc_id: the document's id (passage keys are ``"<doc_id>#<index>"``).
        text: the document text.
        signals: the document's other columns, copied into every passage.
        min_tokens: fewest MeCab tokens of a passage (default 64, >= 0).
        max_tokens: most MeCab tokens of a passage made of several sentences (default 384,
            >= ``min_tokens``); see the module docstring for why 64-384.
    """
    _check_token_bounds(min_tokens, max_tokens)
    spans = sentence_spans(text)
    tokenize = get_tokenizer().word_tokenize
    counts, words, medical = [], [], []
    for s, e in spans:
        toks = tokenize(text[s:e])
        counts.append(len(toks))
        w, m = count_words_and_medical(toks)
        words.append(w)
        medical.append(m)
    passages = []
    for index, (i, j) in enumerate(pack_sentences(counts, min_tokens=min_tokens, max_tokens=max_tokens)):
        start, end = spans[i][0], spans[j - 1][1]
        w = sum(words[i:j])
        passages.append(
            Passage(
                doc_id=doc_id,
                index=index,
                text=text[start:end],
                start=start,
                end=end,
                tokens=sum(counts[i:j]),
                medical_density=sum(medical[i:j]) / w if w else 0.0,
                signals=dict(signals) if signals else {},
            )
        )
    return passages


def _rank(seed: int, key: str) -> int:
    """Position of a passage in the seeded order: a keyed hash, independent of input order."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest(), "big")


def select_passages(
    passages: Iterable[Passage],
    *,
    n: int | None,
    seed: int,
    min_tokens: int = DEFAULT_MIN_TOKENS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    min_medical_density: float = 0.1,
    min_japanese_ratio: float = 0.5,
) -> tuple[list[Passage], dict[str, int]]:
    """Choose the passages to generate questions from; say why each other one was not chosen.

    Rule, deterministic:

    1. a passage is skipped under the first reason that applies: ``too_short`` (fewer than
       ``min_tokens``), ``too_long`` (more than ``max_tokens``: the over-long single sentences
       of :func:`split_passages`), ``japanese_ratio_low``
       (:func:`~jmedcorpus.text.charclass.japanese_ratio` below ``min_japanese_ratio``: English
       abstracts, lab tables), ``medical_density_low`` (below ``min_medical_density``:
       acknowledgements, administrative text);
    2. if ``n`` is given and more than ``n`` passages remain, the ``n`` with the smallest hash of
       ``(seed, passage.key)`` (blake2b) are kept and the rest count as ``not_sampled``.

    The sample depends only on the seed and the passages' keys, not on their order; a larger
    ``n`` adds passages to a smaller one's sample; another seed gives another sample; adding
    documents can only push passages out of a sample, not reshuffle it.

    Memory: with ``n`` given, only the ``n`` best-ranked eligible passages are held (plus the set
    of keys seen), so a corpus-sized iterator can be passed.

    Args:
        passages: passages with unique keys (a repeated key is a ``ValueError``: the sample would
            depend on which copy came first).
        n: passages to keep at most, >= 0; ``None`` keeps every eligible passage.
        seed: seed of the sample.
        min_tokens, max_tokens: token bounds, as given to :func:`split_passages` (default 64-384).
        min_medical_density: lowest :func:`medical_density` kept, in [0, 1] (default 0.1: below
            every case report passage of the fixtures (0.13+), above most everyday prose (0)).
        min_japanese_ratio: lowest Japanese character share kept, in [0, 1] (default 0.5: a
            passage to ask Japanese questions about should be mostly Japanese; the corpus's
            ``japanese_ratio`` step keeps documents down to 0.05, for exam questions that quote
            English records; the fixture reports' passages at 64-384 tokens: 0.58-0.95, with
            full-width Latin and digits counting as non-Japanese).

    Returns:
        ``(selected, skipped)``: the selected passages sorted by ``(doc_id, index)``, and the
        count of skipped passages per reason (every reason of ``SKIP_REASONS`` present, zeros
        included); ``len(selected) + sum(skipped.values())`` is the number of passages given.
    """
    _check_token_bounds(min_tokens, max_tokens)
    if n is not None and n < 0:
        raise ValueError(f"n must be >= 0 or None, got {n}")
    for name, value in (
        ("min_medical_density", min_medical_density),
        ("min_japanese_ratio", min_japanese_ratio),
    ):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")

    skipped = dict.fromkeys(SKIP_REASONS, 0)
    seen: set[str] = set()

    def eligible() -> Iterator[Passage]:
        for p in passages:
            key = p.key
            if key in seen:
                raise ValueError(f"passage key {key!r} given twice")
            seen.add(key)
            if p.tokens < min_tokens:
                skipped[SKIP_TOO_SHORT] += 1
            elif p.tokens > max_tokens:
                skipped[SKIP_TOO_LONG] += 1
            elif japanese_ratio(p.text) < min_japanese_ratio:
                skipped[SKIP_NOT_JAPANESE] += 1
            elif p.medical_density < min_medical_density:
                skipped[SKIP_LOW_MEDICAL_DENSITY] += 1
            else:
                yield p

    if n is None:
        selected = list(eligible())
    else:
        count = 0

        def ranked() -> Iterator[tuple[int, str, Passage]]:
            nonlocal count
            for p in eligible():
                count += 1
                key = p.key
                yield _rank(seed, key), key, p

        items = ranked()
        selected = [p for _, _, p in heapq.nsmallest(n, items, key=lambda t: (t[0], t[1]))]
        for _ in items:  # nsmallest(0, ...) reads nothing: count every passage all the same
            pass
        skipped[SKIP_NOT_SAMPLED] = count - len(selected)
    selected.sort(key=lambda p: (p.doc_id, p.index))
    return selected, skipped


def passages_from_shards(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    text_field: str = "text",
    id_field: str = "id",
    min_tokens: int = DEFAULT_MIN_TOKENS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    batch_size: int = 256,
    stats: dict[str, int] | None = None,
) -> Iterator[Passage]:
    """Passages of every document of Parquet shards (``OUT/data/train-*.parquet``), in file order.

    Reads ``batch_size`` rows at a time (pyarrow), never a whole file or dataset. Every column
    other than ``text_field`` and ``id_field`` (source, chars, mecab_tokens, language, ...) is
    copied into each passage's ``signals``.

    Args:
        paths: one path or several, read in the order given (the selection does not depend on it).
        text_field, id_field: columns holding the text and the document id (default text, id);
            a file without them is a ``ValueError``; a null text counts as empty.
        min_tokens, max_tokens: as in :func:`split_passages` (default 64-384).
        batch_size: rows converted to Python at a time (default 256; >= 1).
        stats: if given, a dict updated in place with ``documents``, ``documents_without_passages``
            and ``passages``, so that documents giving no passage are accounted for.
    """
    import pyarrow.parquet as pq

    _check_token_bounds(min_tokens, max_tokens)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if stats is not None:
        for k in ("documents", "documents_without_passages", "passages"):
            stats.setdefault(k, 0)
    for path in paths:
        pf = pq.ParquetFile(path)
        missing = [c for c in (text_field, id_field) if c not in pf.schema_arrow.names]
        if missing:
            raise ValueError(f"{os.fspath(path)}: no column {', '.join(missing)}")
        for batch in pf.iter_batches(batch_size=batch_size):
            for row in batch.to_pylist():
                text = row.pop(text_field) or ""
                doc_id = row.pop(id_field)
                if doc_id is None:
                    raise ValueError(f"{os.fspath(path)}: a row has a null {id_field}")
                passages = split_passages(
                    str(doc_id), text, row, min_tokens=min_tokens, max_tokens=max_tokens
                )
                if stats is not None:
                    stats["documents"] += 1
                    stats["passages"] += len(passages)
                    stats["documents_without_passages"] += not passages
                yield from passages
