"""Japanese quality filters, one family of checks per module; importing registers their steps.

Defaults are calibrated on real clinical Japanese (MedTxt-CR case reports, IgakuQA licensing-exam
questions) with ``bench/calibrate_quality.py``: together they drop < 1% of those documents, while
still dropping web debris, mojibake, repeated boilerplate, symbol runs and bare number tables.
"""

from jmedcorpus.filters.quality.debris import MarkupDebrisFilter
from jmedcorpus.filters.quality.length import DocLengthFilter
from jmedcorpus.filters.quality.mojibake import MojibakeFilter
from jmedcorpus.filters.quality.repetition import CharNgramRepetitionFilter, JaGopherRepetitionFilter
from jmedcorpus.filters.quality.script import HiraganaRatioFilter, JapaneseRatioFilter, KatakanaRatioFilter
from jmedcorpus.filters.quality.sentences import SentenceLengthFilter
from jmedcorpus.filters.quality.symbols import DigitRatioFilter, SymbolRatioFilter

__all__ = [
    "CharNgramRepetitionFilter",
    "DigitRatioFilter",
    "DocLengthFilter",
    "HiraganaRatioFilter",
    "JaGopherRepetitionFilter",
    "JapaneseRatioFilter",
    "KatakanaRatioFilter",
    "MarkupDebrisFilter",
    "MojibakeFilter",
    "SentenceLengthFilter",
    "SymbolRatioFilter",
]
