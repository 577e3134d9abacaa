"""Sentence lengths: drop text without sentence structure (run-on blobs, keyword soup, lists of
single characters).

Origin: Swallow corpus filters (Okazaki et al. 2024: mean sentence length 20-90 characters, no
sentence over 200) and llm-jp-corpus's average-sentence-length check. Recalibrated: sentences come
from :func:`jmedcorpus.text.sentences.split_sentences` (newlines end sentences, so licensing-exam
option lines "a. 橋" give means as low as 2.8), and lab-value paragraphs in exam questions and case
reports run to 380 characters without a 。. Defaults keep every calibration document and still drop
a multi-kilobyte blob with no sentence end.
"""

from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import QUALITY_MEAN_SENTENCE_LENGTH, QUALITY_SENTENCE_TOO_LONG
from jmedcorpus.registry import register_step
from jmedcorpus.text.sentences import sentence_spans

META_MAX_SENTENCE_LENGTH = "max_sentence_length"
META_MEAN_SENTENCE_LENGTH = "mean_sentence_length"


@register_step("sentence_length")
class SentenceLengthFilter(BaseFilter):
    """Drop documents whose longest sentence is too long or whose mean sentence length is off.

    Writes ``metadata["max_sentence_length"]`` (int, characters) and
    ``metadata["mean_sentence_length"]`` (float; 0.0 for a document with no sentence). Reasons:
    ``QUALITY_SENTENCE_TOO_LONG`` (checked first), ``QUALITY_MEAN_SENTENCE_LENGTH``.

    Args:
        max_sentence_chars: longest sentence kept, in characters (>= 1; default 1000).
        min_mean_chars: lowest mean sentence length kept (>= 0; default 2.0).
        max_mean_chars: highest mean sentence length kept (> min_mean_chars; default 300.0).
        exclusion_writer: optional writer for dropped documents.
    """

    name = "sentence length"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_SENTENCE_TOO_LONG, QUALITY_MEAN_SENTENCE_LENGTH)
    signal_fields: ClassVar[dict[str, str]] = {
        META_MAX_SENTENCE_LENGTH: "int64",
        META_MEAN_SENTENCE_LENGTH: "float64",
    }
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("max_sentence_length", "max", "max_sentence_chars", ""),
        ("mean_sentence_length", "min", "min_mean_chars", ""),
        ("mean_sentence_length", "max", "max_mean_chars", ""),
    )

    def __init__(
        self,
        *,
        max_sentence_chars: int = 1000,
        min_mean_chars: float = 2.0,
        max_mean_chars: float = 300.0,
        exclusion_writer=None,
    ) -> None:
        super().__init__(exclusion_writer)
        if max_sentence_chars < 1:
            raise ValueError(f"max_sentence_chars must be >= 1, got {max_sentence_chars}")
        if min_mean_chars < 0:
            raise ValueError(f"min_mean_chars must be >= 0, got {min_mean_chars}")
        if max_mean_chars <= min_mean_chars:
            raise ValueError(
                f"max_mean_chars must be > min_mean_chars ({min_mean_chars}), got {max_mean_chars}"
            )
        self.max_sentence_chars = max_sentence_chars
        self.min_mean_chars = min_mean_chars
        self.max_mean_chars = max_mean_chars

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lengths = [end - start for start, end in sentence_spans(doc.text)]
        longest = doc.metadata[META_MAX_SENTENCE_LENGTH] = max(lengths, default=0)
        mean = doc.metadata[META_MEAN_SENTENCE_LENGTH] = sum(lengths) / len(lengths) if lengths else 0.0
        if longest > self.max_sentence_chars:
            return False, QUALITY_SENTENCE_TOO_LONG
        if not self.min_mean_chars <= mean <= self.max_mean_chars:
            return False, QUALITY_MEAN_SENTENCE_LENGTH
        return True
