"""Names of medical facilities: ``田中内科クリニック``, ``〇〇大学医学部附属病院``, ``横浜市立病院``.

The case-report guideline forbids the names of hospitals that treated the patient before (a name
and a date narrow a patient down to a few people). Generic references stay: ``当院``, ``近医``,
``前医``, ``総合病院``, ``大学病院``, ``地域の中核病院``, ``近医整形外科クリニック``, and a
one-letter label, ``A病院``, the anonymized form (as ``A氏`` is for a person).

How, on the folded text (:func:`jmedcorpus.pii.patterns.fold`):

1. find each facility word (:data:`SUFFIXES`: 病院, 医院, クリニック, 診療所, 医療センター ...) with
   ``str.find`` (cheap: most documents hold none or a few);
2. take the run of name characters right before it (kanji, katakana, Latin letters, masks such as
   ``○○``, and the hiragana words of the word list, がん and こども; other hiragana, digits and
   punctuation end it: 近くの病院, 200床の病院);
3. cut the run into the generic words of ``jmedcorpus/text/facility_words_ja.txt`` (longest
   first) and other characters. No other character: generic, kept. Otherwise the facility, from
   its first other character to the end of the facility word, is the span: ``前医田中内科クリニック``
   → ``前医<FACILITY>``. A mask counts as a name (``○○病院`` → ``<FACILITY>``: the step cannot tell a
   mask from a name, and replacing a mask loses nothing).

The word list also holds facility names made of generic words only (国立がん研究センター), found
as they are. A surname plus a department without a facility word (``田中内科を受診``) is left to the
name rules: the surname becomes ``<NAME>``.

A name in hiragana (``ひまわりクリニック``, ``すずらん内科医院``) cannot be told from grammar by
characters (この病院, このまま病院, ため病院 are common in real text), so it is found with MeCab, on
the tokens the name rules made (:func:`find_kana_facilities`): a hiragana noun that UniDic tags as
a common noun of the general kind or a proper noun (not 副詞可能 such as まま, ため) right before
the facility word, generic words (内科) between allowed.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import compress

from jmedcorpus.pii.names import word_tokens_with_pos_keys
from jmedcorpus.pii.patterns import fold_word
from jmedcorpus.pii.wordlists import read_word_list
from jmedcorpus.text.mecab import pos_by_left_id

FACILITY_FILE = "facility_words_ja.txt"
SUFFIXES = (
    "病院",
    "医院",
    "クリニック",
    "診療所",
    "療養所",
    "医療センター",
    "研究センター",
    "がんセンター",
    "メディカルセンター",
    "ホスピタル",
)
# one character that is generic only when nothing else is left: 大病院, 某病院, 当クリニック
_SINGLE_GENERIC = frozenset("大小中新旧某当同他各本別前元現全両諸")
_MASKS = "○〇◯●◎△▲□■◇◆×＊*"
_MAX_RUN = 30


@cache
def _lists() -> tuple[frozenset[str], int, tuple[str, ...], re.Pattern, tuple[str, ...]]:
    """(generic words, their longest length, facility names, run-before-a-suffix pattern, the
    facility words folded)."""
    generic: set[str] = set()
    names: list[str] = []
    hiragana: list[str] = []
    for entry in read_word_list(FACILITY_FILE):
        word = fold_word(entry.lstrip("=+"))
        if entry.startswith("="):
            names.append(word)
        elif entry.startswith("+"):
            hiragana.append(word)
        else:
            generic.add(word)
    chars = rf"[\u3400-\u9fff\uf900-\ufaff々〆ヶ\u30a1-\u30faA-Za-z\-・{_MASKS}]"
    words = "|".join(sorted(map(re.escape, hiragana), key=len, reverse=True))
    # (the hiragana words are tried only at a hiragana character)
    run = re.compile(rf"(?:{chars}|(?=[\u3041-\u309f])(?:{words}))+\Z")
    suffixes = tuple(map(fold_word, SUFFIXES))
    return frozenset(generic), max(map(len, generic)), tuple(names), run, suffixes


def find_facilities(folded: str) -> list[tuple[int, int]]:
    """Spans of facility names in ``folded``, in text order (they may overlap).

    >>> from jmedcorpus.pii.patterns import fold
    >>> t = "前医の田中内科クリニックで加療後、○○大学医学部附属病院、近医整形外科クリニック、A病院、当院"
    >>> [t[s:e] for s, e in find_facilities(fold(t))]
    ['田中内科クリニック', '○○大学医学部附属病院']
    """
    generic, longest, names, run, suffixes = _lists()
    spans: list[tuple[int, int]] = []
    for suffix in suffixes:
        at = folded.find(suffix)
        while at >= 0:
            m = run.search(folded, max(0, at - _MAX_RUN), at)
            if m is not None:
                start = name_start(m.group(), generic, longest, names)
                if start is not None:
                    spans.append((m.start() + start, at + len(suffix)))
            at = folded.find(suffix, at + len(suffix))
    if "国立" in folded:  # every listed name starts so
        for name in names:
            at = folded.find(name)
            while at >= 0:
                spans.append((at, at + len(name)))
                at = folded.find(name, at + len(name))
    spans.sort()
    return spans


def name_start(run: str, generic: frozenset[str], longest: int, names: tuple[str, ...] = ()) -> int | None:
    """Where in ``run`` (the characters before a facility word) the facility's name starts, or
    None if the run names no facility. ``names``: facility names made of generic words.

    >>> g = frozenset(["前医", "内科", "近医", "整形外科", "総合", "中央"])
    >>> [name_start(r, g, 4) for r in ("前医田中内科", "近医整形外科", "A総合", "大", "大阪", "")]
    [2, None, None, None, 0, None]
    >>> name_start("前医国立X中央", g, 4, ("国立X",))
    2
    """
    first = None
    other: list[str] = []
    i = 0
    n = len(run)
    while i < n:
        if run.startswith(names, i):
            name = next(x for x in names if run.startswith(x, i))
            if first is None:
                first = i
            other.append(name)
            i += len(name)
            continue
        for k in range(min(longest, n - i), 1, -1):
            if run[i : i + k] in generic:
                i += k
                break
        else:
            if run[i] != "・":  # a list's separator, not a name
                if first is None:
                    first = i
                other.append(run[i])
            i += 1
    if first is None:
        return None
    if len(other) == 1 and (other[0] in _SINGLE_GENERIC or "A" <= other[0] <= "Z"):
        return None  # 大病院, 某病院, A病院: a kind, or the anonymized label
    return first


# the facility words as MeCab cuts them (診療所 is 診療|所)
_FACILITY_TOKENS = frozenset(["病院", "医院", "クリニック", "診療"])
_HIRAGANA_WORD = re.compile(r"[\u3041-\u309fー]{2,}")
_NAME_POS = ("名詞-普通名詞-一般", "名詞-固有名詞")


def find_kana_facilities(text: str) -> list[tuple[int, int]]:
    """Spans of facilities named in hiragana (see the module docstring), in text order.

    >>> find_kana_facilities("前医のひまわりクリニックから、このまま病院へ。すずらん内科医院")
    [(3, 12), (23, 31)]
    """
    if "病院" not in text and "医院" not in text and "クリニック" not in text and "診療所" not in text:
        return []
    surfaces, starts, keys = word_tokens_with_pos_keys(text)
    generic = _lists()[0]
    pos = pos_by_left_id()
    spans: list[tuple[int, int]] = []
    for i in compress(range(len(surfaces)), map(_FACILITY_TOKENS.__contains__, surfaces)):
        end = starts[i] + len(surfaces[i])
        if surfaces[i] == "診療":
            if not text.startswith("所", end):
                continue
            end += 1
        j = i - 1  # back over generic words (内科) that touch
        while j >= 0 and fold_word(surfaces[j]) in generic and starts[j] + len(surfaces[j]) == starts[j + 1]:
            j -= 1
        if j < 0 or starts[j] + len(surfaces[j]) != starts[j + 1]:
            continue
        word = surfaces[j]
        if _HIRAGANA_WORD.fullmatch(word) and word not in generic and pos[keys[j]].startswith(_NAME_POS):
            spans.append((starts[j], end))
    return spans
