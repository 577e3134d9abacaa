"""Symbol and digit ratios: drop symbol runs, ASCII art, separators and bare number tables.

Origin: the symbol-to-word ratio of Gopher (Rae et al. 2021) and the symbol/number share checks of
HojiChar and the Swallow corpus pipeline, re-expressed per character for Japanese (no spaces).
Recalibrated for medicine: licensing-exam "組合せ" questions pair options with long dash runs
("a. 鼻カニューラ --------- 1L/分": symbol share up to 0.48) and lab-value paragraphs are dense in
digits (IgakuQA up to 0.36, case reports up to 0.16), so the web defaults (~0.1-0.3) would drop
real clinical text. Measured with ``bench/calibrate_quality.py``.

Both ratios come from :func:`jmedcorpus.text.charclass.char_counts`, one character scan per
document shared with the script-ratio filters.
"""

from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import QUALITY_DIGIT_RATIO_HIGH, QUALITY_SYMBOL_RATIO_HIGH
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.charclass import digit_ratio, symbol_ratio

META_SYMBOL_RATIO = "symbol_ratio"
META_DIGIT_RATIO = "digit_ratio"


@register_step("symbol_ratio")
class SymbolRatioFilter(BaseFilter):
    """Drop documents made mostly of punctuation and symbols (separators, ASCII art, emoji runs).

    Default ``max_ratio`` 0.6 (real maximum 0.48, median 0.08-0.11). Writes
    ``metadata["symbol_ratio"]``; reason ``QUALITY_SYMBOL_RATIO_HIGH``.

    Args:
        max_ratio: highest symbol share of non-whitespace characters kept, in [0, 1].
        exclusion_writer: optional writer for dropped documents.
    """

    name = "symbol ratio"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_SYMBOL_RATIO_HIGH,)
    signal_fields: ClassVar[dict[str, str]] = {META_SYMBOL_RATIO: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("symbol_ratio", "max", "max_ratio", ""),
    )

    def __init__(self, *, max_ratio: float = 0.6, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        self.max_ratio = check_fraction("max_ratio", max_ratio)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ratio = doc.metadata[META_SYMBOL_RATIO] = symbol_ratio(doc.text)
        return ratio <= self.max_ratio or (False, QUALITY_SYMBOL_RATIO_HIGH)


@register_step("digit_ratio")
class DigitRatioFilter(BaseFilter):
    """Drop bare number tables (statistics dumps, price lists, timetables).

    Default ``max_ratio`` 0.5 (real maximum 0.36 for lab-value questions). Writes
    ``metadata["digit_ratio"]``; reason ``QUALITY_DIGIT_RATIO_HIGH``.

    Args:
        max_ratio: highest digit share of non-whitespace characters kept, in [0, 1].
        exclusion_writer: optional writer for dropped documents.
    """

    name = "digit ratio"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_DIGIT_RATIO_HIGH,)
    signal_fields: ClassVar[dict[str, str]] = {META_DIGIT_RATIO: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("digit_ratio", "max", "max_ratio", ""),
    )

    def __init__(self, *, max_ratio: float = 0.5, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        self.max_ratio = check_fraction("max_ratio", max_ratio)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ratio = doc.metadata[META_DIGIT_RATIO] = digit_ratio(doc.text)
        return ratio <= self.max_ratio or (False, QUALITY_DIGIT_RATIO_HIGH)
