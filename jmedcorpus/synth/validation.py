"""Validate parsed QA items before they are kept: length, language, grounding in the passage,
benchmark contamination and near-duplicates.

Each check is a small class whose thresholds are keyword arguments with the defaults below;
:func:`validate_exam` and :func:`validate_free` run them all and return every reason found, in
the fixed order of :data:`REASON_ORDER` (an empty list: the item is accepted).

===================  ==========================================================================
check                rule (defaults)
===================  ==========================================================================
length               characters of the stripped text: question 10-1,200 (IgakuQA 2018-2022:
                     9-1,192, median 142; the prompts' schema asks for ≥ 10), each option ≤ 80
                     (IgakuQA max 70, 99th percentile 33), explanation 20-2,000, free answer
                     10-1,000 (the schema's ``minLength: 10``)
language             fastText lid.176's top language is ``ja``, with score ≥ 0.5 or kana ≥ 5 %
                     of the non-space characters: the build's language step with its kana
                     rescue (``von Gierke病はどれか。``: ja 0.53). The rescue needs ``ja`` on
                     top: ``The patient received ニボルマブ for laryngeal cancer.`` is 12 %
                     kana but English (en 0.87). Chinese, where a Qwen-type model drifts, has
                     no kana.
                     Options are too short for fastText (``胆管炎`` → ja 0.77, five kanji-only
                     options → zh 0.76): they fail when 3 or more of the 5 are Latin prose, i.e.
                     contain no kana/kanji but a word with 3+ lower-case letters
                     (``Ursodeoxycholic acid``); abbreviations, values and symbols (``CT``,
                     ``γ-GTP``, ``5 mg``) are neutral. Five bacterial binomials are rejected too.
grounding            content words (below) of the answer found in the passage: free answer
                     ≥ 50 %; exam: correct option ≥ 50 % *and* explanation key terms ≥ 50 %
contamination        ≥ 20 % of the item's 10-token MeCab n-grams occur in the benchmark
near-duplicate       estimated Jaccard ≥ 0.8 with an accepted item (character 5-gram MinHash)
===================  ==========================================================================

**Content words** (:func:`content_words`): MeCab tokens of the NFKC, lower-cased text that are at
least 2 characters long and contain a kanji (``胆管``, ``増悪``), are katakana (``ニボルマブ``) or
are ASCII letters/digits (``udca``, ``600``); hiragana-only tokens (particles, endings) and
punctuation are function words. Words every case report holds (``投与``, ``認め``, ``改善``,
``診断``, :data:`GENERIC_WORDS`) are evidence of nothing and not counted. One-character tokens
(``炎``, ``肝``, ``癌``) are left out: they occur in almost every medical passage and would only
inflate the overlap. A word counts as found
when it occurs in the passage (NFKC, lower-cased; ASCII words only between non-letters), not
only as one of the passage's tokens: MeCab segments the same string differently in another
context (``肝静脈`` vs ``肝``+``静脈``, ``ＵＤＣＡ６００ｍｇ``).

**Exam items**: the correct option is checked on its own (it must be an answer the passage
supports: 1 of 1 or 2 words, 2 of 3 or 4 …; an expanded abbreviation, ``ウルソデオキシコール酸
（UDCA）`` for a passage saying ``ＵＤＣＡ``, still passes), and so is the explanation, whose
exam vocabulary (``正解``, ``選択``, ``誤り``, ``適切``, ``症例`` …, :data:`EXAM_STOPWORDS`) is
not counted: a text without content words passes its part. An explanation may bring in
general knowledge and discuss the distractors.

Grounding is lexical, so it has limits both ways: a wrong answer built from the passage's own
words passes (``経頸静脈的肝内門脈大循環短絡術`` shares 静脈, 肝内, 門脈 and 循環 with a passage
about an intrahepatic portal-hepatic venous shunt), and a correct paraphrase may fail (a passage
saying ``ＰＳＬ`` does not ground ``プレドニゾロン``). It catches the common failure: an answer
(a drug, a procedure) that the passage never names.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata

import numpy as np
import regex
import xxhash

from jmedcorpus.constants import (
    SYNTH_ANSWER_NOT_JAPANESE,
    SYNTH_ANSWER_TOO_LONG,
    SYNTH_ANSWER_TOO_SHORT,
    SYNTH_CONTAMINATED,
    SYNTH_DUPLICATE,
    SYNTH_EXPLANATION_NOT_JAPANESE,
    SYNTH_EXPLANATION_TOO_LONG,
    SYNTH_EXPLANATION_TOO_SHORT,
    SYNTH_NOT_GROUNDED,
    SYNTH_OPTION_TOO_LONG,
    SYNTH_OPTIONS_NOT_JAPANESE,
    SYNTH_QUESTION_NOT_JAPANESE,
    SYNTH_QUESTION_TOO_LONG,
    SYNTH_QUESTION_TOO_SHORT,
)
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.synth.parsing import OPTION_LINE, ExamItem, FreeQA
from jmedcorpus.text.charclass import JAPANESE, KANJI, kana_ratio

# The order in which validate_exam / validate_free report reasons.
REASON_ORDER = (
    SYNTH_QUESTION_TOO_SHORT,
    SYNTH_QUESTION_TOO_LONG,
    SYNTH_OPTION_TOO_LONG,
    SYNTH_ANSWER_TOO_SHORT,
    SYNTH_ANSWER_TOO_LONG,
    SYNTH_EXPLANATION_TOO_SHORT,
    SYNTH_EXPLANATION_TOO_LONG,
    SYNTH_QUESTION_NOT_JAPANESE,
    SYNTH_OPTIONS_NOT_JAPANESE,
    SYNTH_ANSWER_NOT_JAPANESE,
    SYNTH_EXPLANATION_NOT_JAPANESE,
    SYNTH_NOT_GROUNDED,
    SYNTH_CONTAMINATED,
    SYNTH_DUPLICATE,
)


# --- length ------------------------------------------------------------------------------------
class LengthCheck:
    """Too short or too long fields, in characters of the stripped text (defaults: see the module
    docstring). Reasons ``synth_{question,answer,explanation}_too_{short,long}`` and
    ``synth_option_too_long`` (an empty option is already a parse rejection)."""

    def __init__(
        self,
        *,
        min_question_chars: int = 10,
        max_question_chars: int = 1200,
        max_option_chars: int = 80,
        min_explanation_chars: int = 20,
        max_explanation_chars: int = 2000,
        min_answer_chars: int = 10,
        max_answer_chars: int = 1000,
    ) -> None:
        for low, high, name in (
            (min_question_chars, max_question_chars, "question"),
            (min_explanation_chars, max_explanation_chars, "explanation"),
            (min_answer_chars, max_answer_chars, "answer"),
        ):
            if not 0 <= low <= high:
                raise ValueError(f"{name} length limits must satisfy 0 <= min <= max, got {low}, {high}")
        if max_option_chars < 1:
            raise ValueError(f"max_option_chars must be >= 1, got {max_option_chars}")
        self.question = (min_question_chars, max_question_chars)
        self.explanation = (min_explanation_chars, max_explanation_chars)
        self.answer = (min_answer_chars, max_answer_chars)
        self.max_option_chars = max_option_chars

    @staticmethod
    def _check(text: str, limits: tuple[int, int], short: str, long: str) -> list[str]:
        n = len(text.strip())
        return [short] if n < limits[0] else [long] if n > limits[1] else []

    def exam(self, item: ExamItem) -> list[str]:
        """Length reasons of an exam item.

        >>> LengthCheck().exam(ExamItem("短い", ["a", "b", "c", "d", "e"], "a", "本文の記載から正解はaである。"))
        ['synth_question_too_short', 'synth_explanation_too_short']
        """
        reasons = self._check(item.question, self.question, SYNTH_QUESTION_TOO_SHORT, SYNTH_QUESTION_TOO_LONG)
        if any(len(o.strip()) > self.max_option_chars for o in item.options):
            reasons.append(SYNTH_OPTION_TOO_LONG)
        reasons += self._check(
            item.explanation, self.explanation, SYNTH_EXPLANATION_TOO_SHORT, SYNTH_EXPLANATION_TOO_LONG
        )
        return reasons

    def free(self, qa: FreeQA) -> list[str]:
        """Length reasons of a free QA pair."""
        reasons = self._check(qa.question, self.question, SYNTH_QUESTION_TOO_SHORT, SYNTH_QUESTION_TOO_LONG)
        return reasons + self._check(qa.answer, self.answer, SYNTH_ANSWER_TOO_SHORT, SYNTH_ANSWER_TOO_LONG)


# --- language ----------------------------------------------------------------------------------
_LATIN_WORD = re.compile(r"[A-Za-z]*[a-z]{3,}")  # "acid", "Prednisolone"; not "CT", "mg", "PSL"


def is_japanese(text: str, min_score: float = 0.5, min_kana_ratio: float = 0.05) -> bool:
    """fastText lid.176's most likely language is ``ja``, with at least ``min_score`` or with
    kana making up at least ``min_kana_ratio`` of the non-space characters (the build's
    ``language`` step and its ``kana_rescue_ratio``). Japanese text with kana is ``ja`` on top
    even when Latin terms lower its score; an English sentence holding a katakana drug name is
    not rescued.

    >>> is_japanese("本症例で胆管炎の再増悪時に追加された薬剤はどれか。")
    True
    >>> is_japanese("Which drug was added when cholangitis recurred?")
    False
    """
    from jmedcorpus.filters.language import predict

    if not text.strip():
        return False
    lang, score = predict(text)
    return lang == "ja" and (score >= min_score or kana_ratio(text) >= min_kana_ratio)


def is_latin_option(option: str) -> bool:
    """An option in Latin prose: no kana or kanji, and a word of 3+ lower-case letters.

    >>> [is_latin_option(o) for o in ("Ursodeoxycholic acid", "UDCA", "γ-GTP 426 U/L", "Gaucher病")]
    [True, False, False, False]
    """
    return not JAPANESE.search(option) and bool(_LATIN_WORD.search(option))


class LanguageCheck:
    """Japanese text and options (rules in the module docstring).

    Args:
        min_score: minimum fastText probability of ``ja`` (default 0.5, as the build).
        min_kana_ratio: kana share that makes a text Japanese whatever fastText says (default
            0.05, the build's ``kana_rescue_ratio``).
        max_latin_options: options in Latin prose tolerated per item (default 2: exams print a
            bacterium or an eponym in Latin; 3 of 5 means the model switched language).
    """

    def __init__(self, *, min_score: float = 0.5, min_kana_ratio: float = 0.05, max_latin_options: int = 2):
        check_fraction("min_score", min_score)
        check_fraction("min_kana_ratio", min_kana_ratio)
        if max_latin_options < 0:
            raise ValueError(f"max_latin_options must be >= 0, got {max_latin_options}")
        self.min_score, self.min_kana_ratio = min_score, min_kana_ratio
        self.max_latin_options = max_latin_options

    def text(self, text: str) -> bool:
        return is_japanese(text, self.min_score, self.min_kana_ratio)

    def options(self, options: list[str]) -> bool:
        return sum(map(is_latin_option, options)) <= self.max_latin_options


# --- grounding ---------------------------------------------------------------------------------
_KATAKANA_WORD = re.compile(r"[\u30A0-\u30FF\u31F0-\u31FF]{2,}")
_ASCII_WORD = re.compile(r"[a-z0-9]{2,}")
_TOKEN_STRIP = regex.compile(r"[\p{P}\p{Z}\p{C}\s]+")
_SPACES = re.compile(r"\s+")

# Exam vocabulary of explanations, not evidence from the passage (NFKC, lower case, as tokenized).
EXAM_STOPWORDS = frozenset(
    [
        "正解",
        "正答",
        "誤答",
        "選択",
        "誤り",
        "誤っ",
        "正しい",
        "正しく",
        "適切",
        "不適切",
        "不適",
        "設問",
        "問題",
        "解説",
        "記載",
        "記述",
        "該当",
        "以上",
        "以下",
        "上記",
        "本文",
        "本症例",
        "症例",
        "本例",
        "考え",
        "考える",
        "考えられる",
        "可能",
        "場合",
        "必要",
        "一般",
        "通常",
        "重要",
        "判断",
        "示唆",
        "特徴",
        "合致",
        "否定",
        "除外",
        "選ぶ",
        "選べ",
        "本問",
        "各選択",
    ]
)


# Words of every case report ("投与した", "認めた", "改善した"): evidence of nothing, so never counted.
# Left out, "リファキシミンの投与" scores 0 instead of 1/2 against a passage that gives UDCA.
GENERIC_WORDS = frozenset(
    [
        "投与",
        "追加",
        "開始",
        "中止",
        "終了",
        "施行",
        "実施",
        "使用",
        "併用",
        "継続",
        "行う",
        "行わ",
        "行っ",
        "行い",
        "認め",
        "認める",
        "認めら",
        "示し",
        "示す",
        "呈し",
        "出現",
        "発症",
        "経過",
        "改善",
        "悪化",
        "上昇",
        "低下",
        "診断",
        "治療",
        "検査",
        "所見",
        "疑い",
        "疑わ",
        "患者",
        "結果",
        "原因",
        "症状",
        "状態",
    ]
)


def content_words(text: str) -> list[str]:
    """Content words of ``text`` (module docstring), in order, repeats kept.

    >>> content_words("ＰＳＬ15mgまで減量した時点で胆管炎が再増悪したため、UDCAを追加した。")
    ['psl', '15', 'mg', '減量', '時点', '胆管', '増悪', 'udca', '追加']
    """
    from jmedcorpus.text.mecab import get_tokenizer

    words = []
    for token in get_tokenizer().word_tokenize(unicodedata.normalize("NFKC", text)):
        w = _TOKEN_STRIP.sub("", token.lower())
        if len(w) < 2:
            continue
        if KANJI.search(w) or _KATAKANA_WORD.fullmatch(w) or _ASCII_WORD.fullmatch(w):
            words.append(w)
    return words


@functools.lru_cache(maxsize=256)  # the same passage serves several items in a row
def _passage_forms(passage_text: str) -> tuple[str, str]:
    """The passage NFKC + lower case, with spaces collapsed (for ASCII words) and removed."""
    text = unicodedata.normalize("NFKC", passage_text).lower()
    return _SPACES.sub(" ", text), _SPACES.sub("", text)


def _found(word: str, passage_text: str) -> bool:
    spaced, joined = _passage_forms(passage_text)
    if not word.isascii():
        return word in joined
    cls = "a-z" if word.isalpha() else "0-9" if word.isdigit() else "a-z0-9"
    return re.search(rf"(?<![{cls}]){re.escape(word)}(?![{cls}])", spaced) is not None


def grounding_overlap(
    text: str, passage_text: str, *, stopwords: frozenset[str] = frozenset()
) -> float | None:
    """Share of the content words of ``text`` (less ``stopwords``) found in the passage; None
    when ``text`` has no content words.

    >>> grounding_overlap("UDCA 600 mgの追加", "ＵＤＣＡ６００ｍｇを追加した．")
    1.0
    >>> grounding_overlap("リファキシミンの追加", "ＵＤＣＡ６００ｍｇを追加した．")  # "追加": generic
    0.0
    """
    words = [w for w in content_words(text) if w not in stopwords and w not in GENERIC_WORDS]
    if not words:
        return None
    return sum(_found(w, passage_text) for w in words) / len(words)


def grounded(answer_text: str, passage_text: str, min_overlap: float = 0.5) -> bool:
    """At least ``min_overlap`` of the answer's content words occur in the passage (an answer
    without content words passes: there is nothing to check).

    >>> grounded("胆管炎の再増悪に対しUDCAが追加された。", "胆管炎の再増悪を認めたためＵＤＣＡを追加した．")
    True
    >>> grounded("血漿交換療法が行われた。", "ＰＳＬパルス療法が開始された．")
    False
    """
    overlap = grounding_overlap(answer_text, passage_text)
    return overlap is None or overlap >= min_overlap


class GroundingCheck:
    """Answers supported by the passage (rules in the module docstring); reason
    ``synth_not_grounded``.

    Args:
        min_answer_overlap: free QA answer (default 0.5).
        min_option_overlap: the correct option of an exam item (default 0.5).
        min_explanation_overlap: an exam explanation's key terms (default 0.5).
    """

    def __init__(
        self,
        *,
        min_answer_overlap: float = 0.5,
        min_option_overlap: float = 0.5,
        min_explanation_overlap: float = 0.5,
    ) -> None:
        self.min_answer_overlap = check_fraction("min_answer_overlap", min_answer_overlap)
        self.min_option_overlap = check_fraction("min_option_overlap", min_option_overlap)
        self.min_explanation_overlap = check_fraction("min_explanation_overlap", min_explanation_overlap)

    def exam(self, item: ExamItem, passage_text: str) -> bool:
        if not grounded(item.answer_text, passage_text, self.min_option_overlap):
            return False
        overlap = grounding_overlap(item.explanation, passage_text, stopwords=EXAM_STOPWORDS)
        return overlap is None or overlap >= self.min_explanation_overlap

    def free(self, qa: FreeQA, passage_text: str) -> bool:
        return grounded(qa.answer, passage_text, self.min_answer_overlap)


# --- near-duplicates ---------------------------------------------------------------------------
class NearDuplicateIndex:
    """The items accepted so far, by MinHash signature; an item whose estimated Jaccard with one
    of them reaches ``threshold`` is a duplicate (reason ``synth_duplicate``).

    Signatures are the build's (:class:`~jmedcorpus.dedup.minhash.MinhashDedup`: character
    5-grams of the shingle-normalized text, 128 permutations), compared by brute force against
    all accepted signatures at once (numpy; 100,000 items × 512 bytes = 51 MB, a comparison in
    a few ms). Default 0.8, stricter than the build's 0.6: items made from one passage share
    its terms, and only a re-worded copy of the same question should be dropped.

    >>> index = NearDuplicateIndex()
    >>> index.offer("本症例で胆管炎の再増悪時に追加された薬剤はどれか。\\nPSL\\nUDCA\\nMMF\\nLVFX\\nCMZ")
    True
    >>> index.offer("本症例で胆管炎の再増悪時に追加された薬剤はどれか。\\nPSL\\nUDCA\\nMMF\\nLVFX\\nCMZ。")
    False
    """

    def __init__(self, threshold: float = 0.8, *, n: int = 5, num_perm: int = 128, seed: int = 1) -> None:
        from jmedcorpus.dedup.minhash import MinhashDedup

        self.threshold = threshold
        self._minhash = MinhashDedup(threshold=threshold, n=n, num_perm=num_perm, seed=seed)
        self._sigs = np.empty((64, num_perm), dtype=np.uint32)
        self._count = 0
        self._last: tuple[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._count

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature of ``text`` (the last one is remembered)."""
        if self._last is None or self._last[0] != text:
            sig = self._minhash.sign([self._minhash.prepare(text)])[0]
            self._last = (text, sig)
        return self._last[1]

    def max_similarity(self, text: str) -> float:
        """Highest estimated Jaccard with an accepted item (0 when none, or no shingles)."""
        from jmedcorpus.dedup.lsh import estimated_jaccard

        sig = self.signature(text)
        if not self._count or (sig == np.uint32(0xFFFFFFFF)).all():
            return 0.0
        return float(estimated_jaccard(self._sigs[: self._count], sig[None, :]).max())

    def is_duplicate(self, text: str) -> bool:
        return self.max_similarity(text) >= self.threshold

    def add(self, text: str) -> None:
        """Remember an accepted item."""
        if self._count == len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.empty_like(self._sigs)])
        self._sigs[self._count] = self.signature(text)
        self._count += 1

    def offer(self, text: str) -> bool:
        """Add ``text`` unless it is a duplicate; whether it was added."""
        if self.is_duplicate(text):
            return False
        self.add(text)
        return True


# --- benchmark contamination ---------------------------------------------------------------------
_LABELS = re.compile(OPTION_LINE.pattern, OPTION_LINE.flags | re.MULTILINE)
_MULT = np.uint64(0x9E3779B97F4A7C15)


def benchmark_tokens(text: str) -> list[str]:
    """The tokens n-grams are made of: option labels (``a.`` at a line start) removed, NFKC,
    MeCab, each token lower-cased with punctuation and spaces removed, empty tokens dropped.

    >>> benchmark_tokens("高アンモニア血症をきたす疾患はどれか。\\na. Gaucher病")
    ['高', 'アンモニア', '血', '症', 'を', 'きたす', '疾患', 'は', 'どれ', 'か', 'gaucher', '病']
    """
    from jmedcorpus.text.mecab import get_tokenizer

    text = _LABELS.sub(lambda m: m.group("text").strip(), unicodedata.normalize("NFKC", text))
    tokens = (_TOKEN_STRIP.sub("", t.lower()) for t in get_tokenizer().word_tokenize(text))
    return [t for t in tokens if t]


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


# --- the whole validation ----------------------------------------------------------------------
def exam_text(item: ExamItem) -> str:
    """Question and options, one per line (what near-duplicates and contamination compare)."""
    return "\n".join([item.question, *item.options])


def _finish(reasons, texts, dedup_text, dedup, contamination) -> list[str]:
    if contamination is not None and any(contamination.contaminated(t) for t in texts):
        reasons.append(SYNTH_CONTAMINATED)
    if dedup is not None:
        if dedup.is_duplicate(dedup_text):
            reasons.append(SYNTH_DUPLICATE)
        elif not reasons:
            dedup.add(dedup_text)
    return reasons


def validate_exam(
    item: ExamItem,
    passage_text: str,
    *,
    dedup: NearDuplicateIndex | None,
    contamination: ContaminationIndex | None,
    language: LanguageCheck | None = None,
    grounding: GroundingCheck | None = None,
    lengths: LengthCheck | None = None,
) -> list[str]:
    """Every reason to reject an exam item, in :data:`REASON_ORDER`; ``[]`` accepts it, and only
    then is it added to ``dedup``. ``dedup``/``contamination`` None skip those checks. Checks
    are independent: an English explanation is usually also not grounded, and both are said.

    Contamination looks at the question alone and at question + options (a copied stem with
    new options is caught too).
    """
    language = language or LanguageCheck()
    grounding = grounding or GroundingCheck()
    reasons = (lengths or LengthCheck()).exam(item)
    if not language.text(item.question):
        reasons.append(SYNTH_QUESTION_NOT_JAPANESE)
    if not language.options(item.options):
        reasons.append(SYNTH_OPTIONS_NOT_JAPANESE)
    if not language.text(item.explanation):
        reasons.append(SYNTH_EXPLANATION_NOT_JAPANESE)
    if not grounding.exam(item, passage_text):
        reasons.append(SYNTH_NOT_GROUNDED)
    text = exam_text(item)
    return _finish(reasons, (item.question, text), text, dedup, contamination)


def validate_free(
    qa: FreeQA,
    passage_text: str,
    *,
    dedup: NearDuplicateIndex | None,
    contamination: ContaminationIndex | None,
    language: LanguageCheck | None = None,
    grounding: GroundingCheck | None = None,
    lengths: LengthCheck | None = None,
) -> list[str]:
    """Every reason to reject a free QA pair, in :data:`REASON_ORDER` (see :func:`validate_exam`).
    Contamination looks at the question and the answer separately."""
    language = language or LanguageCheck()
    grounding = grounding or GroundingCheck()
    reasons = (lengths or LengthCheck()).free(qa)
    if not language.text(qa.question):
        reasons.append(SYNTH_QUESTION_NOT_JAPANESE)
    if not language.text(qa.answer):
        reasons.append(SYNTH_ANSWER_NOT_JAPANESE)
    if not grounding.free(qa, passage_text):
        reasons.append(SYNTH_NOT_GROUNDED)
    return _finish(reasons, (qa.question, qa.answer), f"{qa.question}\n{qa.answer}", dedup, contamination)
