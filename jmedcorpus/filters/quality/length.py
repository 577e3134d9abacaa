"""Document length: drop empty stubs and pathologically huge documents."""

from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import QUALITY_TOO_LONG, QUALITY_TOO_SHORT
from jmedcorpus.registry import register_step
from jmedcorpus.text.charclass import non_space_len

META_NON_SPACE_CHARS = "non_space_chars"


@register_step("doc_length")
class DocLengthFilter(BaseFilter):
    """Drop documents with too few or too many non-whitespace characters.

    Too short: empty or whitespace-only records, titles, stray headers. Too long: concatenated
    dumps that no training sequence can hold and that stall per-document steps.

    Thresholds: Swallow (Okazaki et al. 2024) drops web pages under 400 characters and NWJC under
    6; that would remove most licensing-exam questions (IgakuQA: 1st percentile 57 characters,
    minimum 48) and short radiology reports or nursing notes (60-80 characters). ``min_chars``
    defaults to 20 and must not exceed 50, so a one-line clinical finding survives. ``max_chars``
    (1,000,000) is a safety limit far above a full-text paper (~30k characters).

    Writes ``metadata["non_space_chars"]`` (int). Reasons: ``QUALITY_TOO_SHORT``,
    ``QUALITY_TOO_LONG``.

    Args:
        min_chars: fewest non-whitespace characters kept (0-50).
        max_chars: most non-whitespace characters kept (> min_chars).
        exclusion_writer: optional writer for dropped documents.
    """

    name = "document length"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_TOO_SHORT, QUALITY_TOO_LONG)
    signal_fields: ClassVar[dict[str, str]] = {META_NON_SPACE_CHARS: "int64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("non_space_chars", "min", "min_chars", ""),
        ("non_space_chars", "max", "max_chars", ""),
    )

    def __init__(self, *, min_chars: int = 20, max_chars: int = 1_000_000, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        if not 0 <= min_chars <= 50:
            raise ValueError(f"min_chars must be in [0, 50], got {min_chars}")
        if max_chars <= min_chars:
            raise ValueError(f"max_chars must be > min_chars ({min_chars}), got {max_chars}")
        self.min_chars = min_chars
        self.max_chars = max_chars

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        n = doc.metadata[META_NON_SPACE_CHARS] = non_space_len(doc.text)
        if n < self.min_chars:
            return False, QUALITY_TOO_SHORT
        if n > self.max_chars:
            return False, QUALITY_TOO_LONG
        return True
