"""Mojibake: text decoded with the wrong character set, or already lossy (U+FFFD).

Markers, each counted once:
- U+FFFD, the replacement character left by ``errors="replace"`` decoding;
- the kanji that UTF-8 lead-byte pairs become when read as Shift_JIS/cp932 (E3 81 → 縺, E3 82 →
  繧, E3 83 → 繝, E3 80 → 縲, and 譁 蜿 髢 荳 螟 邨 逕 莉 菴 遘 蛹 for common kanji rows). They are
  real but rare kanji (縺れる = もつれる): none occurs in the calibration set, while in UTF-8 Japanese
  read as cp932 縺 alone is ~7% of the characters;
- UTF-8 read as Latin-1/cp1252: a lead byte Â-ï followed by a continuation character
  ("ã\\x81\\x82" for あ, "Ã©" for é, "Â°" for °). "Sjögren" or "Schönlein" do not match.

Origin: the U+FFFD and mojibake checks of HojiChar and ftfy's heuristics, reduced to markers that
never occur in clean Japanese medical text. A document is dropped only when the markers are both
several (``min_count``) and dense (``max_ratio``), so one genuine 縺 or one stray U+FFFD in a
report does not cost the document.
"""

import re
from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import QUALITY_MOJIBAKE
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.charclass import non_space_len

META_MOJIBAKE_RATIO = "mojibake_ratio"

_MARKERS = re.compile(
    "\ufffd|[縺繧繝縲譁蜿髢荳螟邨逕莉菴遘蛹]"
    "|[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)


def mojibake_count(text: str) -> int:
    """Number of mojibake markers in ``text``.

    >>> mojibake_count("胸部CTで結節影を認めた。")
    0
    >>> mojibake_count("胸部CT縺ｧ邨千ｯ蠖ｱ")
    2
    """
    return len(_MARKERS.findall(text))


@register_step("mojibake")
class MojibakeFilter(BaseFilter):
    """Drop documents with dense mojibake or replacement characters.

    Writes ``metadata["mojibake_ratio"]`` (markers per non-space character); reason
    ``QUALITY_MOJIBAKE``.

    Args:
        max_ratio: highest marker share of non-whitespace characters kept, in [0, 1] (default 0.01).
        min_count: fewest markers needed to drop a document (>= 1; default 3).
        exclusion_writer: optional writer for dropped documents.
    """

    name = "mojibake"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_MOJIBAKE,)
    signal_fields: ClassVar[dict[str, str]] = {META_MOJIBAKE_RATIO: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("mojibake_ratio", "max", "max_ratio", "and at least min_count markers"),
    )

    def __init__(self, *, max_ratio: float = 0.01, min_count: int = 3, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        check_fraction("max_ratio", max_ratio)
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        self.max_ratio = max_ratio
        self.min_count = min_count

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        count, n = mojibake_count(doc.text), non_space_len(doc.text)
        ratio = doc.metadata[META_MOJIBAKE_RATIO] = count / n if n else 0.0
        if count >= self.min_count and ratio > self.max_ratio:
            return False, QUALITY_MOJIBAKE
        return True
