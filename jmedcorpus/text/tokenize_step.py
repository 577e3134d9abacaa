"""The ``mecab`` step: tokenize each document once with MeCab and store its sizes."""

from __future__ import annotations

from typing import ClassVar

from datatrove.pipeline.base import PipelineStep

from jmedcorpus.constants import META_CHARS, META_MECAB_TOKENS
from jmedcorpus.registry import register_step
from jmedcorpus.text.mecab import DEFAULT_CHUNK_CHARS, MecabWordTokenizer, get_tokenizer


@register_step("mecab")
class MecabTokenCounter(PipelineStep):
    """Tokenize with MeCab (fugashi + unidic-lite) and write ``mecab_tokens`` and ``chars``.

    Drops nothing. The tokens stay in the process's shared :class:`MecabWordTokenizer`, so the
    filters after this step (ours and datatrove's, which count words through the same tokenizer)
    reuse them instead of tokenizing again. ``mecab_tokens`` is the number a trainer budgets with
    ("10B tokens of medical text" is counted in MeCab words by the Japanese LLM papers).

    Args:
        max_chunk_chars: characters per MeCab call (default 4096); bounded so that a
            multi-megabyte document cannot crash MeCab, and small because MeCab gets slower per
            character on long inputs.
    """

    name = "mecab"
    type = "🔢 - TOKENIZE"
    signal_fields: ClassVar[dict[str, str]] = {META_CHARS: "int64", META_MECAB_TOKENS: "int64"}

    def __init__(self, *, max_chunk_chars: int = DEFAULT_CHUNK_CHARS) -> None:
        super().__init__()
        MecabWordTokenizer(max_chunk_chars)  # validates
        self.max_chunk_chars = max_chunk_chars

    def run(self, data, rank: int = 0, world_size: int = 1):
        tokenizer = get_tokenizer(self.max_chunk_chars)
        for doc in data:
            with self.track_time():
                tokens = tokenizer.word_tokenize(doc.text)
            doc.metadata[META_CHARS] = len(doc.text)
            doc.metadata[META_MECAB_TOKENS] = len(tokens)
            self.stat_update("total")
            self.stat_update(META_MECAB_TOKENS, value=len(tokens))
            yield doc
