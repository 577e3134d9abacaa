r"""Structured personal identifiers found by regular expressions: phones, e-mail, postal codes,
My Number, labelled IDs and exact dates; and the folding and gating the other finders share
(addresses: :mod:`jmedcorpus.pii.addresses`, facilities: :mod:`jmedcorpus.pii.facilities`).

Every pattern runs on a *folded* copy of the text of exactly the same length (full-width ASCII →
ASCII, ideographic space → space, every dash and the prolonged-sound mark → ``-``), so one pattern
matches ``03-1234-5678``, ``０３－１２３４－５６７８`` and ``03ー1234ー5678`` alike, and the spans
found apply unchanged to the original text.

:func:`jmedcorpus.pii.structured.find_structured` runs them all and resolves overlaps.

Speed (issue 14, ``bench/bench_pii.py``; the same matches as before, see tests/pii): ``re`` tries
a pattern that starts with a lookbehind or a repeat at every character, one that starts with a
character class only where the class matches, and one that starts with a literal character it
looks for with a plain loop, several times cheaper again. So the lookbehinds before a number are
moved behind its first character (``(?<![\d,])\d`` is written ``\d(?<![\d,]\d)``), the patterns
that cannot be written so run only near a match of a cheap *gate* that every match contains
(:class:`_Gated`), and a pattern that needs a label runs only if ``in`` finds the label.
"""

from __future__ import annotations

import re
from itertools import repeat

# ---------------------------------------------------------------- folding (length-preserving)
_FOLD = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = " "
for _cp in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0x30FC, 0xFE63, 0xFF70):
    _FOLD[_cp] = "-"


# runs of characters to fold, kept by split(): translating only those is ~1.7x faster than all
_FOLD_SPLIT = re.compile("([" + "".join(map(chr, sorted(_FOLD))).replace("-", "\\-") + "]+)")
_FOLDED: tuple[str, str] = ("", "")  # the last text folded and its fold


def fold(text: str) -> str:
    """Full-width ASCII → ASCII, dashes → ``-``; one character for one character.

    >>> fold("０９０－１２３４ー５６７８　Ｔｅｌ")
    '090-1234-5678 Tel'
    """
    global _FOLDED
    last = _FOLDED
    if last[0] is text:  # the step folds a document for the patterns and again for the names
        return last[1]
    parts = _FOLD_SPLIT.split(text)
    parts[1::2] = map(str.translate, parts[1::2], repeat(_FOLD))
    folded = "".join(parts)
    _FOLDED = (text, folded)
    return folded


def fold_word(word: str) -> str:
    """:func:`fold` for a word list entry or a pattern: no cache, so a document's fold stays cached."""
    return word.translate(_FOLD)


def remember_fold(text: str, folded: str) -> None:
    """Let the next ``fold(text)`` of this very string return ``folded`` (which must be its fold)."""
    global _FOLDED
    _FOLDED = (text, folded)


# ---------------------------------------------------------------- My Number
def mynumber_valid(digits: str) -> bool:
    """Check digit of a 12-digit individual number (My Number), per the ministerial ordinance:
    weights Q(n) = n+1 for n = 1..6 and n-5 for n = 7..11, P(n) the n-th digit from the right
    excluding the check digit; check = 0 if sum mod 11 <= 1 else 11 - sum mod 11.

    >>> mynumber_valid("123456789018"), mynumber_valid("123456789010")
    (True, False)
    """
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = digits[:11]
    total = 0
    for n in range(1, 12):
        p = int(body[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    check = 0 if r <= 1 else 11 - r
    return check == int(digits[11])


# ---------------------------------------------------------------- patterns
# not inside a longer number, decimal, ratio or range; a period after a word is a sentence's end
# (``．`` folds to ``.``: ``…を認めた．2017年…``), not a decimal point
_NB = r"(?<![\d,/\-])(?<!\d\.)"
_NA = r"(?![\d]|[.,/\-]\d)"
# before a year written with 年 a period is always a sentence's end (``…7.2．2019年4月``): no decimal
# is followed by 年月日
_NB_YEAR = r"(?<![\d,/\-])"


def _nb(x: str) -> str:
    r"""``x`` (one character's pattern) with :data:`_NB` written after it: ``_NB + x`` ==
    ``x(?<![\d,/\-]x)(?<!\d\.x)``, so that ``re`` looks for ``x`` first."""
    return rf"{x}(?<![\d,/\-]{x})(?<!\d\.{x})"


class _Gated:
    """``regex.finditer`` where every match contains, at most ``before`` characters after its
    start, a match of one of the ``gates``, patterns that ``re`` finds fast (best: each starting
    with one literal character, which ``re`` looks for with a plain loop; a character class costs
    ~7x more per character): the regex is tried only in those windows, in text order, and gives
    exactly the matches of ``regex.finditer`` (none of these regexes matches the empty string)."""

    def __init__(self, regex: re.Pattern, gates: str | tuple[str, ...], before: int) -> None:
        self.regex = regex
        self.gates = tuple(re.compile(g) for g in ((gates,) if isinstance(gates, str) else gates))
        self.before = before

    def finditer(self, text: str):
        match, before = self.regex.match, self.before
        searches = [g.search for g in self.gates]
        none = len(text) + 1
        heads = [-1] * len(searches)  # each gate's next match start (-1: not looked for yet)
        nxt = at = 0  # nxt: where the next match may start; at: where to look for the next gate
        while True:
            for i, h in enumerate(heads):
                if h < at:
                    g = searches[i](text, at)
                    heads[i] = g.start() if g is not None else none
            q = min(heads)
            if q == none:
                return
            for p in range(max(nxt, q - before), q + 1):
                m = match(text, p)  # lookbehinds see the text before p, as in finditer
                if m is not None:
                    yield m
                    nxt = m.end()
                    break
            else:
                nxt = max(nxt, q + 1)
            at = max(q + 1, nxt)


EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

_MYNUM_LABEL = r"(?:マイナンバー|個人番号)\s?(?:[:#]\s?)?"
_NB_DIGIT, _NB_PLUS, _NB_PAREN, _NB_ZERO = _nb(r"\d"), _nb(r"\+"), _nb(r"\("), _nb("0")
MYNUMBER = re.compile(rf"({_NB_DIGIT}\d{{3}}[ -]?\d{{4}}[ -]?\d{{4}})" + _NA)  # _NB + \d{4}...
MYNUMBER_LABELLED = re.compile(_MYNUM_LABEL + r"(\d[\d -]{10,14}\d)" + _NA)

# _NB + (?:(?:\+81[ -]?(?:\(0\))?[ -]?\d{1,4}|\(0\d{1,4}\)|0\d{1,4})REST|\+81\d{9,10}|0\d{9,10}) + _NA,
# the alternatives grouped by their first character (in the same order) and _NB put behind it
_PHONE_REST = r"[ -]?\(?\d{1,4}\)?[ -]?\d{3,4}"
PHONE = re.compile(
    rf"(?:{_NB_PLUS}(?:81[ -]?(?:\(0\))?[ -]?\d{{1,4}}{_PHONE_REST}|81\d{{9,10}})"
    rf"|{_NB_PAREN}0\d{{1,4}}\){_PHONE_REST}"
    rf"|{_NB_ZERO}(?:\d{{1,4}}{_PHONE_REST}|\d{{9,10}}))" + _NA
)

POSTAL = re.compile(r"〒\s?(\d{3}-?\d{4})|郵便番号\s?[:]?\s?(\d{3}-?\d{4})")

_ID_LABELS = (
    r"患者\s?ID|患者番号|患者No\.?|カルテ\s?(?:番号|No\.?|ID)|診察券\s?(?:番号|No\.?)|ID\s?No\.?|"
    r"入院番号|外来番号|病歴番号|病理(?:組織)?番号|病理\s?No\.?|生検番号|細胞診番号|画像番号|検査番号|"
    r"受付番号|被保険者証?(?:記号)?(?:・番号|番号)?|保険者番号|公費負担者番号|受給者番号|記号\s?・?\s?番号|"
    r"記号|番号|MRN|I(?<![A-Za-z]I)D"  # the last one: (?<![A-Za-z])ID, so that all start with a literal
)
# every label above holds one of these
_ID_LABEL_PARTS = ("ID", "番号", "No", "記号", "MRN", "被保険者")
# label, separator, then one or more tokens with at least one digit (``12-34``, ``AB1234``, ``1234・56``)
LABELLED_ID = re.compile(
    rf"(?:{_ID_LABELS})\s?(?:[:#]|No\.?)?\s?"
    r"((?=[A-Za-z\-]*\d)[A-Za-z0-9][A-Za-z0-9\-]*(?:\s?[・/]\s?[A-Za-z0-9][A-Za-z0-9\-]*)*)"
)

_ERA = r"(?:令和|平成|昭和|大正|明治)"
_Y = r"(?:元|\d{1,2})"
_M = r"(?:1[0-2]|0?[1-9])"
_D = r"(?:3[01]|[12]\d|0?[1-9])"
_BIRTH = r"(?:\s?生(?:まれ)?(?![検化体存理食活着]))?"
# a weekday after a date narrows year-month down to the day: it goes with the day
_WEEKDAY = r"(?:\s?\([月火水木金土日](?:曜日?)?\)|\s?[月火水木金土日]曜日?)?"
_YMD = rf"年\s?{_M}\s?月\s?{_D}\s?日"
# each alternative's last group (``m.lastgroup``) is its day, the part replaced when year-month is kept
DATE_FULL = _Gated(
    re.compile(
        "|".join(
            [
                rf"{_NB_YEAR}(?:1[89]|20)\d\d\s?年\s?{_M}\s?月\s?(?P<d1>{_D}\s?日{_WEEKDAY}){_BIRTH}",
                rf"{_ERA}\s?{_Y}\s?年\s?{_M}\s?月\s?(?P<d2>{_D}\s?日{_WEEKDAY}){_BIRTH}",
                rf"{_NB}(?:1[89]|20)\d\d(?P<s3>[/.\-]){_M}(?P=s3)(?P<d3>{_D}{_NA}{_WEEKDAY})",
                # H30.1.5, R5/4/12
                rf"(?<![A-Za-z0-9])[RHSTMrhstm]\s?{_Y}(?P<s4>[./\-]){_M}(?P=s4)(?P<d4>{_D}{_NA}{_WEEKDAY})",
            ]
        )
    ),
    # 年 (at most 4 + 1 or 2 + 1 + 2 + 1 characters in), or the first of two equal separators (at
    # most 4 in): gates that each start with one literal character
    gates=(_YMD, *(rf"{re.escape(c)}{_M}{re.escape(c)}{_D}" for c in "/.-")),
    before=6,
)
# (a year before it is allowed: 同年2月22日; in 2017年2月22日 the span is DATE_FULL's as well); a
# month the text already named: 同月7日, 翌月3日
DATE_MONTH_DAY = _Gated(
    re.compile(rf"(?<!\d)(?<!第)(?:{_M}|[同翌前当本今先])\s?月\s?(?P<d>{_D}\s?日{_WEEKDAY})"),
    gates=rf"月\s?{_D}\s?日",
    before=3,
)
DATE_YEAR_MONTH = _Gated(
    re.compile(rf"(?:{_NB_YEAR}(?:1[89]|20)\d\d|{_ERA}\s?{_Y})\s?年\s?{_M}\s?月"),
    gates=rf"年\s?{_M}\s?月",
    before=6,
)
_DATE_ANY = (
    rf"(?:{_ERA}\s?{_Y}|(?:1[89]|20)\d\d)\s?年(?:\s?{_M}\s?月)?(?:\s?{_D}\s?日)?"
    rf"|(?:1[89]|20)\d\d[/.\-]{_M}(?:[/.\-]{_D})?|[RHSTMrhstm]\s?{_Y}[./\-]{_M}(?:[./\-]{_D})?"
)
BIRTH_LABELLED = re.compile(rf"(?:生年月日|誕生日|DOB)\s?[:]?\s?((?:{_DATE_ANY}){_BIRTH})")
BIRTH_YEAR_MONTH = _Gated(
    re.compile(rf"(?:{_ERA}\s?{_Y}|(?:1[89]|20)\d\d)\s?年\s?{_M}\s?月\s?生(?:まれ)?(?![検化体存理食活着])"),
    gates=rf"年\s?{_M}\s?月\s?生",
    before=6,
)
