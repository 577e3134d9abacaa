"""MeCab (fugashi + unidic-lite) as datatrove's Japanese ``WordTokenizer``.

Why not datatrove's own: its Japanese tokenizer is spaCy + SudachiPy at ~0.44 MB/s; MeCab's wakati
output runs at 5-12 MB/s. Every datatrove step that counts words accepts a ``WordTokenizer`` in
place of a language code, so passing :class:`MecabWordTokenizer` makes the whole corpus measured
with one segmenter.

Safety: MeCab silently drops everything after a NUL, raises on a lone surrogate and segfaults on
a single call of a few MB. Input is cleaned of both and parsed in bounded chunks cut at line (or
sentence) boundaries; smaller chunks are also faster (MeCab's lattice cost grows with input).

Reuse: the process remembers the tokens of the most recent texts (a build task's batch of
documents, :mod:`jmedcorpus.text.recent`), so the ``mecab`` step tokenizes a document once and
later steps (ours and datatrove's stock filters) get the same tokens for free.
"""

from __future__ import annotations

import functools
import re

from datatrove.utils.word_tokenizers import WordTokenizer

from jmedcorpus.text.recent import RecentTexts
from jmedcorpus.text.sentences import sentence_spans, split_sentences

_UNSAFE = re.compile(r"[\x00\ud800-\udfff]")
DEFAULT_CHUNK_CHARS = 4096
# The most recent documents tokenized in this process and their tokens, shared by every
# instance: the ``mecab`` step and the filters after it (including datatrove's, which hold their
# own instance after unpickling) see the same batch of documents in turn, so each is tokenized once.
_RECENT: RecentTexts[list[str]] = RecentTexts()


@functools.cache
def get_tagger():
    """The process's one fugashi Tagger (wakati output, unidic-lite dictionary)."""
    import fugashi
    import unidic_lite

    d = unidic_lite.DICDIR
    return fugashi.GenericTagger(f'-Owakati -r "{d}/mecabrc" -d "{d}"')


@functools.cache
def get_pos_tagger():
    """The process's fugashi tagger with parts of speech (same dictionary): ``parse(text)`` gives
    one line per token, surface then readings, lemma and the POS as ``名詞-固有名詞-人名-姓`` in
    the fifth tab-separated column. Parsing that string is ~3x faster than fugashi's node
    objects (0.68 vs 0.25 M characters/s). Only the personal-information step and the statistics'
    terms need it; everything else uses the wakati :func:`get_tagger`."""
    import fugashi
    import unidic_lite

    d = unidic_lite.DICDIR
    return fugashi.GenericTagger(f'-r "{d}/mecabrc" -d "{d}"')


# one token per two lines: the surface, then for a dictionary word its left context id (``%phl``),
# which stands for its POS (unidic-lite's left rewrite rules keep pos1-4 verbatim, see
# :func:`pos_by_left_id`) and is much cheaper to print than fields of the 26-field UniDic feature
# string; an unknown word's ids come from unk.def and do not tell its POS: the POS itself is printed
# for those (``%F-[0,1,2,3]``, as in :func:`get_pos_tagger`'s fifth column)
_SURFACE_LEFT_ID = "%m\\n%phl\\n"
_SURFACE_POS = "%m\\n%F-[0,1,2,3]\\n"


@functools.cache
def get_pos_id_tagger():
    """The process's fugashi tagger printing, per token, the surface and its left context id (an
    unknown word: its POS) on two lines (``"山田\\n4790\\n花子\\n4789\\nﾃｽﾄ\\n名詞-普通名詞-一般\\nEOS"``);
    same dictionary and segmentation as :func:`get_tagger` and :func:`get_pos_tagger`. Map ids to
    POS with :func:`pos_by_left_id`. ``-O ""`` drops the dictionary's own output type so that
    ``-F``/``-U`` apply."""
    import fugashi
    import unidic_lite

    d = unidic_lite.DICDIR
    f, u = _SURFACE_LEFT_ID, _SURFACE_POS
    return fugashi.GenericTagger(f'-r "{d}/mecabrc" -d "{d}" -O "" -F "{f}" -U "{u}" -E "EOS"')


class _PosById(dict):
    def __missing__(self, key: str) -> str:  # an unknown word's line already is its POS
        return key


@functools.cache
def pos_by_left_id() -> dict[str, str]:
    """``{left context id: POS}`` for :func:`get_pos_id_tagger`'s second lines, the POS written as
    in :func:`get_pos_tagger`'s fifth column (``名詞-固有名詞-人名-姓``: pos1-4, ``*`` left out), read
    from the dictionary's ``left-id.def``; a line that is no id (an unknown word's POS) maps to
    itself."""
    import os

    import unidic_lite

    out = _PosById()
    with open(os.path.join(unidic_lite.DICDIR, "left-id.def"), encoding="utf-8") as f:
        for line in f:
            ident, _, feature = line.rstrip("\n").partition(" ")
            out[ident] = "-".join(x for x in feature.split(",")[:4] if x != "*")
    return out


@functools.cache
def unknown_word_pos_possible(pos: str) -> bool:
    """Whether MeCab may give an unknown word the POS ``pos`` (comma-separated, ``名詞,固有名詞,人名,姓``):
    the dictionary's ``unk.dic`` holds its unknown-word features as plain text. True when unsure."""
    import os

    import unidic_lite

    try:
        with open(os.path.join(unidic_lite.DICDIR, "unk.dic"), "rb") as f:
            return pos.encode("utf-8") in f.read()
    except OSError:
        return True


def remember_tokens(text: str, tokens: list[str]) -> None:
    """Make ``tokens`` the remembered tokenization of ``text`` (the cache that
    :meth:`MecabWordTokenizer.word_tokenize` answers from), for a step that has already run MeCab
    on the text. ``tokens`` must be exactly what ``get_tokenizer().word_tokenize(text)`` returns."""
    _RECENT.put(text, tokens)


def dictionary_version() -> str:
    """Name and version of the MeCab dictionary, for the manifest."""
    import os

    import unidic_lite

    with open(os.path.join(unidic_lite.DICDIR, "version"), encoding="utf-8") as f:
        return f"unidic-lite {f.read().strip()}"


def iter_chunks(text: str, max_chars: int = DEFAULT_CHUNK_CHARS):
    """Pieces of ``text`` of at most ``max_chars`` characters, cut after a newline where possible,
    else after a sentence end, else anywhere (a pathological single-line document).

    >>> list(iter_chunks("ab\\ncd\\nef", max_chars=5))
    ['ab\\n', 'cd\\nef']
    >>> list(iter_chunks("abcdefg", max_chars=3))
    ['abc', 'def', 'g']
    """
    start, n = 0, len(text)
    while start < n:
        end = min(start + max_chars, n)
        if end < n:
            cut = text.rfind("\n", start, end)
            if cut < 0:
                spans = sentence_spans(text[start:end])
                cut = start + spans[-2][1] - 1 if len(spans) > 1 else -1
            if cut >= start:
                end = cut + 1
        yield text[start:end]
        start = end


class MecabWordTokenizer(WordTokenizer):
    """MeCab wakati tokenization for ``ja``; picklable (the Tagger is created lazily per process).

    Tokens never contain whitespace; spaces between words are not tokens.

    Args:
        max_chunk_chars: characters handed to MeCab per call (default 4096; must be 256-1,000,000).
    """

    def __init__(self, max_chunk_chars: int = DEFAULT_CHUNK_CHARS):
        super().__init__("ja")
        if not 256 <= max_chunk_chars <= 1_000_000:
            raise ValueError(f"max_chunk_chars must be in [256, 1000000], got {max_chunk_chars}")
        self.max_chunk_chars = max_chunk_chars

    def word_tokenize(self, text: str) -> list[str]:
        known = _RECENT.get(text)
        if known is not None:
            return known
        clean = _UNSAFE.sub("", text) if _UNSAFE.search(text) else text
        parse = get_tagger().parse
        tokens: list[str] = []
        for chunk in iter_chunks(clean, self.max_chunk_chars):
            tokens.extend(parse(chunk).split())
        _RECENT.put(text, tokens)
        return tokens

    def sent_tokenize(self, text: str) -> list[str]:
        return split_sentences(text)

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return sentence_spans(text)

    def __hash__(self):  # datatrove caches tokenizers in an lru_cache keyed by the instance
        return hash((type(self), self.max_chunk_chars))

    def __eq__(self, other):
        return type(other) is type(self) and other.max_chunk_chars == self.max_chunk_chars


@functools.cache
def get_tokenizer(max_chunk_chars: int = DEFAULT_CHUNK_CHARS) -> MecabWordTokenizer:
    """The process's shared tokenizer: steps that use it share its last-document token cache."""
    return MecabWordTokenizer(max_chunk_chars)
