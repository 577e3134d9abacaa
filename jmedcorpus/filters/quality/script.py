"""Script ratios: hiragana, Japanese characters, katakana (over non-whitespace characters).

Origin: NWJC/nwc-toolkit (hiragana >= 5%, Japanese >= 70% per sentence) and the Swallow corpus
filters (Okazaki et al. 2024: hiragana >= 0.2 and katakana <= 0.5 of Japanese letters, Japanese
>= 0.5 of all letters); HojiChar and llm-jp-corpus use the same family. Web thresholds reject
clinical Japanese: lab-value paragraphs are mostly digits, units and Latin test names (IgakuQA's
lowest Japanese-language question has hiragana 0.025, Japanese 0.074 when half its text is an
English clinical record; option lists of drug names reach katakana 0.53). The defaults below keep
every Japanese document of the calibration set (``bench/calibrate_quality.py``) and still drop
number tables, symbol runs and katakana-only keyword spam. English documents fail them too, which
is fine: the language filter runs first.
"""

from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import (
    QUALITY_HIRAGANA_RATIO_LOW,
    QUALITY_JAPANESE_RATIO_LOW,
    QUALITY_KATAKANA_RATIO_HIGH,
)
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.charclass import hiragana_ratio, japanese_ratio, katakana_ratio

META_HIRAGANA_RATIO = "hiragana_ratio"
META_JAPANESE_RATIO = "japanese_ratio"
META_KATAKANA_RATIO = "katakana_ratio"


@register_step("hiragana_ratio")
class HiraganaRatioFilter(BaseFilter):
    """Drop documents with almost no hiragana: bare tables, keyword lists, Chinese, mojibake.

    Default ``min_ratio`` 0.02 (web corpora use 0.05-0.2; clinical lab-value paragraphs run at
    0.025-0.06). Writes ``metadata["hiragana_ratio"]``; reason ``QUALITY_HIRAGANA_RATIO_LOW``.

    Args:
        min_ratio: lowest hiragana share of non-whitespace characters kept, in [0, 1].
        exclusion_writer: optional writer for dropped documents.
    """

    name = "hiragana ratio"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_HIRAGANA_RATIO_LOW,)
    signal_fields: ClassVar[dict[str, str]] = {META_HIRAGANA_RATIO: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("hiragana_ratio", "min", "min_ratio", ""),
    )

    def __init__(self, *, min_ratio: float = 0.02, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        self.min_ratio = check_fraction("min_ratio", min_ratio)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ratio = doc.metadata[META_HIRAGANA_RATIO] = hiragana_ratio(doc.text)
        return ratio >= self.min_ratio or (False, QUALITY_HIRAGANA_RATIO_LOW)


@register_step("japanese_ratio")
class JapaneseRatioFilter(BaseFilter):
    """Drop documents with too few Japanese characters (hiragana, katakana, kanji).

    Default ``min_ratio`` 0.05 (Swallow 0.5, NWJC 0.7; Japanese medical text mixes in Latin test
    names, units and English passages). Writes ``metadata["japanese_ratio"]``; reason
    ``QUALITY_JAPANESE_RATIO_LOW``.

    Args:
        min_ratio: lowest Japanese share of non-whitespace characters kept, in [0, 1].
        exclusion_writer: optional writer for dropped documents.
    """

    name = "Japanese character ratio"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_JAPANESE_RATIO_LOW,)
    signal_fields: ClassVar[dict[str, str]] = {META_JAPANESE_RATIO: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("japanese_ratio", "min", "min_ratio", ""),
    )

    def __init__(self, *, min_ratio: float = 0.05, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        self.min_ratio = check_fraction("min_ratio", min_ratio)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ratio = doc.metadata[META_JAPANESE_RATIO] = japanese_ratio(doc.text)
        return ratio >= self.min_ratio or (False, QUALITY_JAPANESE_RATIO_LOW)


@register_step("katakana_ratio")
class KatakanaRatioFilter(BaseFilter):
    """Drop katakana-dominated documents: product-name spam, SEO keyword lists, mojibake.

    Default ``max_ratio`` 0.7 (Swallow 0.5 of Japanese letters; drug-name option lists reach
    0.53 of non-whitespace characters). Writes ``metadata["katakana_ratio"]``; reason
    ``QUALITY_KATAKANA_RATIO_HIGH``.

    Args:
        max_ratio: highest katakana share of non-whitespace characters kept, in [0, 1].
        exclusion_writer: optional writer for dropped documents.
    """

    name = "katakana ratio"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_KATAKANA_RATIO_HIGH,)
    signal_fields: ClassVar[dict[str, str]] = {META_KATAKANA_RATIO: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("katakana_ratio", "max", "max_ratio", ""),
    )

    def __init__(self, *, max_ratio: float = 0.7, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        self.max_ratio = check_fraction("max_ratio", max_ratio)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ratio = doc.metadata[META_KATAKANA_RATIO] = katakana_ratio(doc.text)
        return ratio <= self.max_ratio or (False, QUALITY_KATAKANA_RATIO_HIGH)
