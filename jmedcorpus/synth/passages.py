"""Passages for question generation: documents cut at sentence boundaries, scored, sampled.

``jmedcorpus synth`` asks an LLM for licensing-exam-style and free-form questions about one
passage at a time. This module turns training shards into those passages:

1. :func:`split_passages` packs consecutive sentences
   (:func:`~jmedcorpus.text.sentences.sentence_spans`) into passages of
   ``min_tokens``-``max_tokens`` MeCab tokens (default 64-384), with exact character spans;
2. :func:`medical_density` scores each passage with a cheap, dictionary-free proxy for medical
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
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from jmedcorpus.text.charclass import japanese_ratio
from jmedcorpus.text.mecab import get_tokenizer
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

# Kanji that mark medical vocabulary: the 疒 (sickness) family, organs and tissues, and the
# characters of clinical words (薬剤, 投与, 手術, 診断, 検査, 治療, 処置, 感染, 細菌, 細胞, 抗体,
# 検査値, 血液型...) and of frequent findings. Curated, not derived; some also occur in everyday
# words (心配, 体験, 感じる, 管理, 配置), which is why this is only a proxy.
MEDICAL_KANJI = frozenset(
    "病症疾痛癌炎腫瘍痩療痺瘤疹痰痢瘡癒疫瘢疸瘻痒"  # 疒 family
    "肝腎肺胃腸脳心血骨筋膵胆脾臓膜管髄脈腔尿膚胸腹"  # body, organs, tissues
    "薬剤投与術診検査治処置感染菌細胞抗体値型患医"  # clinical words
    "障壊塞梗栓硬嘔吐咳嗽昏睡酵"  # findings: 障害 壊死 梗塞 塞栓 硬変 嘔吐 咳嗽 昏睡 酵素
)
# A run of 3+ katakana (drug, disease and device loanwords: デュルバルマブ, ステロイド, カテーテル).
_KATAKANA_RUN = re.compile(
    r"[\u30A1-\u30FA\u31F0-\u31FF\uFF66-\uFF9D][\u30A1-\u30FA\u30FC\u31F0-\u31FF\uFF66-\uFF9F]{2,}"
)
# A Latin acronym, half or full width: 2-6 letters or digits, starting with a capital, with at
# least two capitals (CT, CRP, MRI, IgG, HbA (MeCab cuts HbA1c into HbA 1 c), ＬＶＦＸ).
_ACRONYM = re.compile(r"[A-ZＡ-Ｚ][A-Za-z0-9Ａ-Ｚａ-ｚ０-９]{1,5}")
_CAPITAL = re.compile(r"[A-ZＡ-Ｚ]")


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


def is_medical_token(token: str) -> bool:
    """Whether one MeCab token looks like medical vocabulary (see :func:`medical_density`).

    >>> [is_medical_token(t) for t in ["肺癌", "ステロイド", "CRP", "ＣＴ", "IgG", "今日", "mg", "テレ"]]
    [True, True, True, True, True, False, False, False]
    """
    if any(ch in MEDICAL_KANJI for ch in token):
        return True
    if _KATAKANA_RUN.search(token):
        return True
    return _ACRONYM.fullmatch(token) is not None and len(_CAPITAL.findall(token)) >= 2


def _count_words_and_medical(tokens: Iterable[str]) -> tuple[int, int]:
    """(word tokens, medical word tokens): a word token has a letter (kana, kanji, Latin)."""
    words = medical = 0
    for t in tokens:
        if any(ch.isalpha() for ch in t):
            words += 1
            medical += is_medical_token(t)
    return words, medical


def medical_density(text: str, tokens: Sequence[str] | None = None) -> float:
    """Share of the word tokens of ``text`` (MeCab tokens with a letter: not punctuation, digits,
    symbols) that look like medical terms; 0.0 without word tokens.

    A token counts when it holds a kanji of :data:`MEDICAL_KANJI` (sickness radical 疒 family,
    organs, clinical-word and finding kanji), a run of 3+ katakana (drug and disease loanwords)
    or a Latin acronym of 2-6 characters with 2+ capitals (CT, CRP, MRI, IgG). Pass ``tokens``
    when the text is already tokenized; otherwise the text is tokenized here. Punctuation and
    numbers are left out of the denominator so that lab values and dates do not dilute it.

    It is a proxy without a dictionary, for a loose floor and ranking, not a classifier: particles
    and verb endings are word tokens too, so real Japanese case reports score about 0.15-0.3 per
    passage (the 29 passages of the fixture reports: 0.13-0.30) and licensing-exam questions
    0.1-0.4, while everyday sentences about weather or politics score 0 (a news sentence with
    ニュース and テレビ: 0.1). Everyday words with 心, 体, 感, 管, 型 and non-medical katakana
    (ニュース, テレビ) are false positives; medical terms in hiragana or with kanji outside the
    set (発熱, 浸潤, 好酸球) are missed.

    >>> medical_density("", ["肝", "障害", "を", "認め", "た", "。", "CRP", "15", ".", "2"])
    0.5
    >>> medical_density("")
    0.0
    """
    if tokens is None:
        tokens = get_tokenizer().word_tokenize(text)
    words, medical = _count_words_and_medical(tokens)
    return medical / words if words else 0.0


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
        w, m = _count_words_and_medical(toks)
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
