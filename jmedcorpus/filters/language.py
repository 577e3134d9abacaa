"""The ``language`` step: fastText lid.176 language identification.

Language identification itself (the model, the bounded sample of a long text) is
:mod:`jmedcorpus.text.langid`, shared with synth's language check. Measured on real text:
2000/2000 Japanese case reports labelled ``ja``, 1000/1000 PubMed abstracts ``en``.

Japanese papers carry English titles and abstracts. By default the decision is per document
(the Japanese body dominates the prediction). ``mode: paragraph`` classifies each line of at least
``min_paragraph_chars`` characters instead, keeps the document when the allowed languages hold at
least ``min_allowed_fraction`` of the classified text, and with
``drop_other_paragraphs: true`` also removes the other-language lines from the text (an English
abstract inside a Japanese paper).
"""

from __future__ import annotations

from typing import ClassVar

from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import (
    LANG_LOW_SCORE,
    LANG_NOT_ALLOWED,
    LANG_TOO_LITTLE_JAPANESE,
    META_CHARS,
    META_LANGUAGE,
    META_LANGUAGE_SCORE,
    META_MECAB_TOKENS,
)
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.charclass import kana_ratio
from jmedcorpus.text.langid import MAX_PREDICT_CHARS, SAMPLE_WINDOWS, predict
from jmedcorpus.text.mecab import get_tokenizer

MODES = ("document", "paragraph")


@register_step("language")
class LanguageFilter(BaseFilter):
    """Keep documents in the allowed languages (default Japanese) by fastText lid.176.

    Drops: ``lang_not_ja`` (top language not allowed), ``lang_low_score`` (allowed but below
    ``min_score``), and in paragraph mode ``lang_too_little_japanese``. Writes ``language`` and
    ``language_score`` (document-level prediction, in both modes), plus in paragraph mode
    ``language_allowed_fraction`` and ``language_removed_chars``.

    Args:
        languages: allowed fastText codes (default ``["ja"]``).
        min_score: minimum probability of the top language (default 0.5; Japanese medical text
            scores > 0.9, short exam questions full of Latin disease names ≈ 0.6-0.9).
        mode: ``document`` (default) or ``paragraph``.
        min_paragraph_chars: lines shorter than this are not classified in paragraph mode
            (default 20: fastText is unreliable on a few characters).
        min_allowed_fraction: paragraph mode: share of the classified text that must be in an
            allowed language (default 0.5), measured in UTF-8 bytes so that a kanji weighs about
            as much as three Latin letters (roughly their information content).
        drop_other_paragraphs: paragraph mode: remove lines classified as another language with
            score >= ``min_score`` (default false).
        kana_rescue_ratio: keep a document whose top language is allowed but scored below
            ``min_score`` when kana (hiragana + katakana, used by no other language) make up at
            least this share of its non-space characters (default 0.05; 0 turns it off).
            Licensing-exam questions full of Latin eponyms, option letters and lab values score
            0.2-0.5 for ``ja`` while 8-20% of their characters are kana; English text has none.
            Only for ``ja`` in ``languages``.
        max_predict_chars: a document (or, in paragraph mode, a line) longer than this is
            classified on an evenly spread sample of this many characters (default 2000, 8
            windows; measured to change no decision on real data, see :func:`jmedcorpus.text.langid.predict_sample`);
            0 classifies whole texts, however long (slower on long documents).
    """

    signal_fields: ClassVar[dict[str, str]] = {META_LANGUAGE: "string", META_LANGUAGE_SCORE: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("language_score", "min", "min_score", "unless kana_rescue_ratio of the characters are kana"),
    )
    other_signals: ClassVar[tuple[str, ...]] = ("language_allowed_fraction", "language_removed_chars")

    name = "language"
    reasons: ClassVar[tuple[str, ...]] = (LANG_NOT_ALLOWED, LANG_LOW_SCORE, LANG_TOO_LITTLE_JAPANESE)

    def __init__(
        self,
        *,
        languages: list[str] | None = None,
        min_score: float = 0.5,
        mode: str = "document",
        min_paragraph_chars: int = 20,
        min_allowed_fraction: float = 0.5,
        drop_other_paragraphs: bool = False,
        kana_rescue_ratio: float = 0.05,
        max_predict_chars: int = MAX_PREDICT_CHARS,
        exclusion_writer=None,
    ) -> None:
        super().__init__(exclusion_writer)
        self.languages = list(languages) if languages is not None else ["ja"]
        if not self.languages:
            raise ValueError("languages must name at least one language code, e.g. [ja]")
        check_fraction("min_score", min_score)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if min_paragraph_chars < 1:
            raise ValueError(f"min_paragraph_chars must be >= 1, got {min_paragraph_chars}")
        check_fraction("min_allowed_fraction", min_allowed_fraction)
        check_fraction("kana_rescue_ratio", kana_rescue_ratio)
        if max_predict_chars != 0 and max_predict_chars < 100 * SAMPLE_WINDOWS:
            raise ValueError(
                f"max_predict_chars must be 0 (whole texts) or >= {100 * SAMPLE_WINDOWS}, got {max_predict_chars}"
            )
        self.max_predict_chars = max_predict_chars
        self.kana_rescue_ratio = kana_rescue_ratio if "ja" in self.languages else 0.0
        self.min_score = min_score
        self.mode = mode
        self.min_paragraph_chars = min_paragraph_chars
        self.min_allowed_fraction = min_allowed_fraction
        self.drop_other_paragraphs = drop_other_paragraphs
        self.signal_fields = dict(type(self).signal_fields)
        if mode == "paragraph":
            self.signal_fields |= {"language_allowed_fraction": "float64", "language_removed_chars": "int64"}

    def filter(self, doc) -> bool | tuple[bool, str]:
        lang, score = predict(doc.text, self.max_predict_chars)
        doc.metadata[META_LANGUAGE] = lang
        doc.metadata[META_LANGUAGE_SCORE] = score
        if self.mode == "paragraph":
            return self._filter_paragraphs(doc)
        if lang not in self.languages:
            return False, LANG_NOT_ALLOWED
        if score >= self.min_score:
            return True
        if self.kana_rescue_ratio and kana_ratio(doc.text) >= self.kana_rescue_ratio:
            return True
        return False, LANG_LOW_SCORE

    def _filter_paragraphs(self, doc) -> bool | tuple[bool, str]:
        allowed = total = removed = 0
        kept_lines = []
        for line in doc.text.split("\n"):
            if len(line.strip()) < self.min_paragraph_chars:
                kept_lines.append(line)
                continue
            lang, score = predict(line, self.max_predict_chars)
            size = len(line.encode("utf-8", "surrogatepass"))
            total += size
            if lang in self.languages:
                allowed += size
            elif self.drop_other_paragraphs and score >= self.min_score:
                removed += len(line)
                continue
            kept_lines.append(line)
        if not total:  # only short lines: fall back to the document-level prediction
            allowed, total = (1, 1) if doc.metadata[META_LANGUAGE] in self.languages else (0, 1)
        fraction = allowed / total
        doc.metadata["language_allowed_fraction"] = fraction
        doc.metadata["language_removed_chars"] = removed
        if fraction < self.min_allowed_fraction:
            return False, LANG_TOO_LITTLE_JAPANESE
        if removed:
            doc.text = "\n".join(kept_lines).strip()
            if META_MECAB_TOKENS in doc.metadata:  # the mecab step ran first: keep its sizes true
                doc.metadata[META_CHARS] = len(doc.text)
                doc.metadata[META_MECAB_TOKENS] = len(get_tokenizer().word_tokenize(doc.text))
        return True
