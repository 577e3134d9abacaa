"""Person names found with MeCab (UniDic POS) plus context: labels, honorifics and initials.

Rules, in order of confidence:

1. A surname token (``名詞-固有名詞-人名-姓``, 2+ characters) with the given-name tokens that follow
   it (``山田花子``, ``山田 花子``).
2. Any proper-noun run (person, place or general proper noun, e.g. ``橋本`` is tagged as a place)
   directly before an honorific or title: さん, 様, 君, 氏, 先生, 医師, 看護師, 院長, 教授, ちゃん.
3. The noun tokens after a label and a separator: ``患者氏名：``, ``担当医：``, ``主治医 `` ...
4. Initials (:mod:`jmedcorpus.pii.initials`): ``K.Y.``, ``Ｋ．Ｓ．氏``, ``患者 Y.T.``, ``KY氏``.

Not names: a name in an eponym (:mod:`jmedcorpus.pii.eponyms`: 高安動脈炎, 菊池・藤本病, 原田氏病,
山田IV型, 小泉門), foreign/katakana ``人名-一般`` tokens without context (バセドウ病, ホルネル徴候:
eponyms, drugs and devices MeCab tags as names), one-character surnames (``膨``, ``潮``:
segmentation debris in medical compounds), and a single capital letter before an honorific
(``A氏`` is already the anonymized form).

Speed (issue 14; ``bench/bench_pii.py``): MeCab prints only each token's surface and left context
id (:func:`jmedcorpus.text.mecab.get_pos_id_tagger`), the offsets come from the surfaces' lengths
(they tile the text but for the whitespace MeCab skips; a chunk where they do not falls back to
``str.find`` on the full-feature output), and the rules run only at the few tokens that can start
one (surnames, honorifics, labels, titles) instead of at every token. The tokens are the ones
``MecabWordTokenizer`` makes, so the step hands them to the ``mecab`` step
(:func:`last_word_tokens`).
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from itertools import accumulate, compress
from operator import add

from jmedcorpus.pii.eponyms import is_eponym
from jmedcorpus.pii.initials import find_initials
from jmedcorpus.pii.patterns import fold
from jmedcorpus.text.mecab import (
    get_pos_id_tagger,
    get_pos_tagger,
    iter_chunks,
    pos_by_left_id,
    unknown_word_pos_possible,
)

HONORIFICS = frozenset(
    [
        "さん",
        "様",
        "さま",
        "君",
        "くん",
        "氏",
        "先生",
        "医師",
        "看護師",
        "院長",
        "教授",
        "准教授",
        "ちゃん",
        "殿",
        "技師",
        "薬剤師",
        "医",
    ]
)
LABELS = (
    "患者氏名",
    "氏名",
    "患者名",
    "担当医",
    "主治医",
    "紹介医",
    "執刀医",
    "記載医",
    "記載者",
    "報告者",
    "担当看護師",
    "保護者",
    "家族",
    "連絡者",
    "申込者",
)
# medical words that UniDic tags as surnames
NOT_SURNAMES = frozenset(["大網", "小網", "左枝", "右枝", "左内", "右内"])
_TITLES_SPLIT = ("看護師", "薬剤師", "技師", "医師", "先生", "院長", "教授", "准教授")
# where a title starts in the text (``准`` only before ``教授``, so that the ``教授`` inside ``准教授``
# is found too: no title starts inside another one otherwise)
_TITLE_STARTS = re.compile("看護師|薬剤師|技師|医師|先生|院長|准(?=教授)|教授")
_TITLE_PARTS = ("師", "先生", "院長", "教授")  # one is in each title
_SEP = re.compile(r"\s*[:]?\s*")
_KANJI_KANA = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff々〆ヶ]+$")
# what MeCab (unidic-lite's SPACE character class) skips between tokens; everything else is in a
# surface (a full-width space is a token of its own)
_SKIPPED = re.compile(r"[\t\n\v ]+")
_UNSKIPPED_SPACE = re.compile(r"[^\S\t\n\v ]")  # whitespace for str.split(), in MeCab's surfaces

# the POS classes the rules look at, one character each
_SURNAME, _GIVEN, _COUNTRY, _PROPER, _NOUN, _SYMBOL, _OTHER = "SPCRNYO"
_PERSON = _SURNAME + _GIVEN  # 名詞-固有名詞-人名
_PROPER_ANY = _PERSON + _COUNTRY + _PROPER  # 名詞-固有名詞
_NOUN_ANY = _PROPER_ANY + _NOUN  # 名詞
# surfaces that may start rule 2 or 3: honorifics, labels, and the first tokens of a label split
# in two (``患者`` + ``氏名``)
_TRIGGERS = (
    frozenset(HONORIFICS) | set(LABELS) | {label[:k] for label in LABELS for k in range(1, len(label))}
)


def _pos_class(pos: str) -> str:
    if pos.startswith("名詞-固有名詞-人名-姓"):
        return _SURNAME
    if pos.startswith("名詞-固有名詞-人名"):
        return _GIVEN
    if pos.startswith("名詞-固有名詞"):
        return _COUNTRY if "地名-国" in pos else _PROPER
    if pos.startswith("名詞"):
        return _NOUN
    if pos.startswith("補助記号"):
        return _SYMBOL
    return _OTHER


class _ClassById(dict):
    """POS class by the POS tagger's second line: a left context id, or an unknown word's POS."""

    def __missing__(self, key: str) -> str:
        self[key] = c = _pos_class(key)
        return c


@functools.cache
def _class_by_id() -> dict[str, str]:
    return _ClassById((ident, _pos_class(pos)) for ident, pos in pos_by_left_id().items())


_SURNAME_POS = "名詞-固有名詞-人名-姓"


@functools.cache
def _surname_needles() -> tuple[tuple[str, str], ...]:
    """``(key, "\\n" + key + "\\n")`` for the key lines of surname tokens: their left context ids
    (one in unidic-lite) and, if an unknown word can be a surname, the POS itself (an unknown word's
    line; the POS has 4 levels at most, so only this one string)."""
    ids = sorted(k for k, pos in pos_by_left_id().items() if _pos_class(pos) == _SURNAME)
    keys = (*ids, _SURNAME_POS) if unknown_word_pos_possible("名詞,固有名詞,人名,姓") else ids
    return tuple((key, f"\n{key}\n") for key in keys)


class _Tokens:
    """MeCab's tokens of a text: ``surfaces``, their start offsets in the text (``starts``) and
    ``lines``, the tagger's output lines without the EOS, surface and POS key alternating (the key
    of token ``i`` is ``lines[2 * i + 1]``: a left context id, or a POS string; :func:`_class_by_id`
    maps it to a POS class); on request (``with_pos``) the POS strings. ``complete``: every token of
    every chunk is here, as the wakati tokenizer segments them; ``empty``: a surface is empty (never
    seen); ``surname_keys``: the surname keys that may be among the lines.

    The output is searched as one string for surnames: ``"\\n4790\\n" in out`` costs a small part
    of comparing each line with ``"4790"``."""

    __slots__ = ("complete", "empty", "lines", "pos", "starts", "surfaces", "surname_keys")

    def __init__(self, text: str, with_pos: bool = False) -> None:
        parse = get_pos_id_tagger().parse
        needles = _surname_needles()
        surfaces: list[str] = []
        starts: list[int] = []
        lines: list[str] = []
        complete = True
        empty = False
        surname_keys: set[str] = set()
        base = 0
        for chunk in iter_chunks(text):
            out = parse(chunk)
            chunk_lines = out.split("\n")
            surfs = chunk_lines[0:-1:2]
            lens = list(map(len, surfs))
            chunk_empty = not all(lens)
            offsets = _offsets(chunk, chunk_lines, surfs, lens, base, chunk_empty)
            if offsets is None:  # a chunk MeCab did not read whole (a NUL): the original slow path
                surfs, offsets, chunk_lines = _tokens_by_find(chunk, base)
                complete = False
                surname_keys.add(_SURNAME_POS)  # these lines are POS strings
            else:
                chunk_lines.pop()  # EOS
                # every key line has a line before and after it
                surname_keys.update(key for key, needle in needles if needle in out)
            empty = empty or chunk_empty
            if base:
                surfaces += surfs
                starts += offsets
                lines += chunk_lines
            else:
                surfaces, starts, lines = surfs, offsets, chunk_lines
            base += len(chunk)
        self.surfaces = surfaces
        self.starts = starts
        self.lines = lines
        self.pos = list(map(pos_by_left_id().__getitem__, lines[1::2])) if with_pos else []
        self.complete = complete
        self.empty = empty
        self.surname_keys = surname_keys

    def surnames(self) -> list[int]:
        """Indices of the surname tokens."""
        lines = self.lines
        out: list[int] = []
        for key in self.surname_keys:
            i = -1
            try:
                while True:
                    i = lines.index(key, i + 1)
                    if i % 2:  # a key line, not a surface that looks like one (``4790``)
                        out.append(i // 2)
            except ValueError:
                pass
        return out


def _offsets(
    chunk: str, lines: list[str], surfs: list[str], lens: list[int], base: int, empty: bool
) -> list[int] | None:
    """Start offsets of ``surfs`` (``lens`` their lengths, changed here) in ``chunk`` (plus
    ``base``), or None when the surfaces do not tile the chunk's characters outside the whitespace
    MeCab skips."""
    if len(lines) % 2 != 1 or lines[-1] != "EOS":
        return None
    if not surfs:
        return [] if not _without_skipped(chunk) else None
    joined = "".join(surfs)
    if joined == chunk:
        starts = list(accumulate(lens, initial=base))
        starts.pop()
        return starts
    if empty or joined != _without_skipped(chunk):
        return None
    # each run of skipped whitespace lies between two tokens: add its length to the step before
    # the token after it
    cstarts = list(accumulate(lens, initial=0))
    n = len(surfs)
    first = base
    skipped = 0
    for m in _SKIPPED.finditer(chunk):
        a, b = m.span()
        k = bisect_left(cstarts, a - skipped)
        skipped += b - a
        if k == 0:
            first += b - a
        elif k < n:
            lens[k - 1] += b - a
    starts = list(accumulate(lens, initial=first))
    starts.pop()
    return starts


def _without_skipped(chunk: str) -> str:
    for c in "\n \t\v":  # str.replace is much cheaper than a regular expression's class
        if c in chunk:
            chunk = chunk.replace(c, "")
    return chunk


def _tokens_by_find(chunk: str, base: int) -> tuple[list[str], list[int], list[str]]:
    """The full-feature tagger's tokens located with ``str.find`` (tokens not found are left out):
    surfaces, offsets, and lines as :class:`_Tokens` has them (surface, POS, surface, ...)."""
    surfs: list[str] = []
    starts: list[int] = []
    lines: list[str] = []
    pos = 0
    for line in get_pos_tagger().parse(chunk).split("\n"):
        if not line or line == "EOS":
            continue
        fields = line.split("\t")
        surface = fields[0]
        start = chunk.find(surface, pos)
        if start < 0:  # MeCab changed the surface (never seen); skip the token rather than guess
            continue
        pos = start + len(surface)
        surfs.append(surface)
        starts.append(base + start)
        lines += (surface, fields[4] if len(fields) > 4 else "")
    return surfs, starts, lines


def tokens_with_pos(text: str) -> list[tuple[int, int, str, str]]:
    """``(start, end, surface, pos)`` for every MeCab token of ``text`` (POS joined by hyphens)."""
    t = _Tokens(text, with_pos=True)
    return list(zip(t.starts, map(add, t.starts, map(len, t.surfaces)), t.surfaces, t.pos))


# the tokens of the last text find_names read: the personal_info step hands them to the ``mecab``
# step when redaction leaves the text unchanged
_LAST_TOKENS: tuple[str, _Tokens] | None = None


def word_tokens_with_pos_keys(text: str) -> tuple[list[str], list[int], list[str]]:
    """MeCab's tokens of ``text``: surfaces, start offsets, and each token's key for
    :func:`jmedcorpus.text.mecab.pos_by_left_id` (its POS). The tokens :func:`find_names` made of this
    very text are reused; new ones are remembered the same way."""
    global _LAST_TOKENS
    last = _LAST_TOKENS
    if last is None or last[0] is not text:
        last = _LAST_TOKENS = (text, _Tokens(text))
    toks = last[1]
    return toks.surfaces, toks.starts, toks.lines[1::2]


def last_word_tokens(text: str) -> list[str] | None:
    """The wakati tokens of ``text`` (as ``MecabWordTokenizer.word_tokenize`` gives them) if
    :func:`find_names` has just tokenized this very text, else None."""
    last = _LAST_TOKENS
    if last is None or last[0] is not text or not last[1].complete:
        return None
    # word_tokenize splits MeCab's space-separated output on whitespace: a surface that is (or
    # holds) whitespace MeCab does not skip (a full-width space, ``\r``) is dropped (split) there
    surfaces, starts = last[1].surfaces, last[1].starts
    spaced = sorted({bisect_right(starts, m.start()) - 1 for m in _UNSKIPPED_SPACE.finditer(text)})
    if last[1].empty or not all(surfaces[k].isspace() for k in spaced):
        return " ".join(surfaces).split()
    tokens: list[str] = []
    prev = 0
    for k in spaced:  # the usual case: whole tokens of whitespace (``\u3000``), left out
        tokens += surfaces[prev:k]
        prev = k + 1
    tokens += surfaces[prev:]
    return tokens


def find_names(text: str) -> list[tuple[int, int]]:
    """Spans of person names in ``text`` (already stripped of structured identifiers)."""
    global _LAST_TOKENS
    spans: list[tuple[int, int]] = []
    f = fold(text)
    spans += find_initials(f)
    toks = _Tokens(text)
    _LAST_TOKENS = (text, toks)
    surfs, starts, lines = toks.surfaces, toks.starts, toks.lines
    n = len(surfs)
    by_key = _class_by_id()

    def cls(i: int) -> str:  # the token's POS class (looked up for the few tokens the rules visit)
        return by_key[lines[2 * i + 1]]

    def end(i: int) -> int:
        return starts[i] + len(surfs[i])

    def touching(j: int) -> bool:  # token j follows token j - 1 with at most one character between
        return starts[j] - end(j - 1) <= 1

    # the tokens where a rule can fire, in order: surnames (rule 1), honorific, label and title
    # tokens (rules 2 and 3); the others are never looked at except as neighbours
    cand = set(toks.surnames())
    cand.update(compress(range(n), map(_TRIGGERS.__contains__, surfs)))
    if any(part in text for part in _TITLE_PARTS):
        for m in _TITLE_STARTS.finditer(text):
            k = bisect_left(starts, m.start())
            while k < n and starts[k] == m.start():
                cand.add(k)
                k += 1
    skip = 0
    for i in sorted(cand):
        if i < skip:
            continue
        s, surf = starts[i], surfs[i]
        # rule 1: surname + given names
        if cls(i) == _SURNAME and surf not in NOT_SURNAMES:
            j = i + 1
            while j < n and cls(j) in _PERSON and touching(j):
                j += 1
            # a one-character surname only with a given name after it (林大輔); alone, or with one more
            # character, it is usually debris of a medical compound (膨|診, 潮|紅)
            whole = sum(map(len, surfs[i:j]))
            if (
                (len(surf) >= 2 or (j > i + 1 and whole >= 3))
                and _KANJI_KANA.match(surf)
                and not is_eponym(f, s, end(j - 1))
            ):
                spans.append((s, end(j - 1)))
                skip = j
                continue
        # rule 2: proper-noun run before an honorific (``看護師`` is split 看護|師: match the text)
        if i > 0 and (surf in HONORIFICS or text.startswith(_TITLES_SPLIT, s)):
            j = i
            while j > 0 and cls(j - 1) in _PROPER_ANY and i - j < 3 and touching(j):
                j -= 1
            if j < i:
                first = surfs[j]
                if (
                    not (len(first) == 1 and fold(first).isascii())
                    and cls(j) != _COUNTRY
                    and not is_eponym(f, starts[j], end(i - 1))  # 原田氏病
                ):
                    spans.append((starts[j], end(i - 1)))
        # rule 3: label + separator + name tokens
        if surf in LABELS or (i + 1 < n and surf + surfs[i + 1] in LABELS):
            k = i + 1 if surf in LABELS else i + 2
            if k < n:
                gap = text[end(k - 1) : starts[k]]
                sep = f[end(k - 1) : starts[k]]
                if surfs[k] in (":", "：") and cls(k) == _SYMBOL:
                    k += 1
                    sep = ":"
                if k < n and (sep.strip() or gap or cls(k) in _PROPER_ANY):
                    j = k
                    while (
                        j < n
                        and j - k < 4
                        and cls(j) in _NOUN_ANY
                        and _KANJI_KANA.match(surfs[j])
                        and surfs[j] not in HONORIFICS
                        and (j == k or touching(j))
                    ):
                        j += 1
                    if j > k and not is_eponym(f, starts[k], end(j - 1)):
                        spans.append((starts[k], end(j - 1)))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
