"""Medical relevance: the ``medical_density`` signal on every document, usable as a threshold."""

from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import QUALITY_MEDICAL_DENSITY_LOW
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.mecab import get_tokenizer
from jmedcorpus.text.medical import medical_density

META_MEDICAL_DENSITY = "medical_density"


@register_step("medical_density")
class MedicalDensityFilter(BaseFilter):
    """Store the share of word tokens that look medical (:func:`jmedcorpus.text.medical.medical_density`)
    and drop documents below ``min_density``.

    Default ``min_density`` 0.0 keeps everything and only records the signal, so the threshold can
    be chosen from ``jmedcorpus stats`` afterwards. Measured on the fixtures: passages of real
    case reports 0.13-0.30, licensing-exam questions 0.1-0.4, everyday prose (weather, politics,
    sport) 0-0.1. Uses the ``mecab`` step's tokens (the tokenizer remembers the last document).
    Writes ``metadata["medical_density"]``; reason ``QUALITY_MEDICAL_DENSITY_LOW``.

    Args:
        min_density: lowest density kept, in [0, 1] (default 0.0: keep all, record the signal).
        exclusion_writer: optional writer for dropped documents.
    """

    name = "medical density"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_MEDICAL_DENSITY_LOW,)
    signal_fields: ClassVar[dict[str, str]] = {META_MEDICAL_DENSITY: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("medical_density", "min", "min_density", "share of medical-looking words"),
    )
    signal_kinds: ClassVar[dict[str, str]] = {META_MEDICAL_DENSITY: "ratio"}  # a share of words

    def __init__(self, *, min_density: float = 0.0, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        self.min_density = check_fraction("min_density", min_density)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        tokens = get_tokenizer().word_tokenize(doc.text)
        density = doc.metadata[META_MEDICAL_DENSITY] = medical_density(doc.text, tokens)
        return density >= self.min_density or (False, QUALITY_MEDICAL_DENSITY_LOW)
