"""Grounding of an answer in its passage (reason ``synth_not_grounded``): the content words
(below) of the answer found in the passage: free answer ≥ 50 %; exam: correct option ≥ 50 %
*and* explanation key terms ≥ 50 % (the defaults of :class:`GroundingCheck`).

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
import re
import unicodedata

from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.synth.items import ExamItem, FreeQA
from jmedcorpus.text.charclass import KANJI
from jmedcorpus.text.exam import TOKEN_STRIP

_KATAKANA_WORD = re.compile(r"[\u30A0-\u30FF\u31F0-\u31FF]{2,}")
_ASCII_WORD = re.compile(r"[a-z0-9]{2,}")
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
        w = TOKEN_STRIP.sub("", token.lower())
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
