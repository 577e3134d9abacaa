r"""Structured personal identifiers found by regular expressions: phones, e-mail, postal codes,
addresses below the city, My Number, labelled IDs and exact dates.

Every pattern runs on a *folded* copy of the text of exactly the same length (full-width ASCII →
ASCII, ideographic space → space, every dash and the prolonged-sound mark → ``-``), so one pattern
matches ``03-1234-5678``, ``０３－１２３４－５６７８`` and ``03ー1234ー5678`` alike, and the spans
found apply unchanged to the original text.

:func:`find_structured` returns ``(start, end, type)`` spans, non-overlapping, in text order.

Speed (issue 14, ``bench/bench_pii.py``; the same matches as before, see tests/pii): ``re`` tries
a pattern that starts with a lookbehind or a repeat at every character, one that starts with a
character class only where the class matches, and one that starts with a literal character it
looks for with a plain loop, several times cheaper again. So the lookbehinds before a number are
moved behind its first character (``(?<![\d.])\d`` is written ``\d(?<![\d.]\d)``), the patterns
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
_NB = r"(?<![\d.,/\-])"  # not inside a longer number, decimal, ratio or range
_NA = r"(?![\d]|[.,/\-]\d)"
# _NB written after the first character x of a match: (?<![\d.,/\-])x == x(?<![\d.,/\-]x)
_NBC = r"[\d.,/\-]"


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
MYNUMBER = re.compile(rf"(\d(?<!{_NBC}\d)\d{{3}}[ -]?\d{{4}}[ -]?\d{{4}})" + _NA)  # _NB + \d{4}...
MYNUMBER_LABELLED = re.compile(_MYNUM_LABEL + r"(\d[\d -]{10,14}\d)" + _NA)

# _NB + (?:(?:\+81[ -]?(?:\(0\))?[ -]?\d{1,4}|\(0\d{1,4}\)|0\d{1,4})REST|\+81\d{9,10}|0\d{9,10}) + _NA,
# the alternatives grouped by their first character (in the same order) and _NB put behind it
_PHONE_REST = r"[ -]?\(?\d{1,4}\)?[ -]?\d{3,4}"
PHONE = re.compile(
    rf"(?:\+(?<!{_NBC}\+)(?:81[ -]?(?:\(0\))?[ -]?\d{{1,4}}{_PHONE_REST}|81\d{{9,10}})"
    rf"|\((?<!{_NBC}\()0\d{{1,4}}\){_PHONE_REST}"
    rf"|0(?<!{_NBC}0)(?:\d{{1,4}}{_PHONE_REST}|\d{{9,10}}))" + _NA
)

POSTAL = re.compile(r"〒\s?(\d{3}-?\d{4})|郵便番号\s?[:]?\s?(\d{3}-?\d{4})")

_PREFS = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|"
    "新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|"
    "奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|"
    "長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_NOT_ADDR = r"[^\s\d、。,.()「」:;]"
_CITY = rf"(?:{_NOT_ADDR}{{1,5}}?郡)?{_NOT_ADDR}{{1,6}}?[市区町村](?:{_NOT_ADDR}{{1,4}}?区)?"
# below the city: a town name, then chome-banchi-go in kanji or dash form, then an optional room
_BLOCK = (
    r"\d+(?:丁目\s?\d+(?:番地?\s?\d*号?)?|番地?(?:\s?\d+号?)?|-\d+(?:-\d+)*(?:号)?)"
    r"(?:\s?" + _NOT_ADDR + r"{0,15}?\d+号室)?"
)
_TOWN = rf"{_NOT_ADDR}{{0,10}}?\s?"
# prefecture + city (kept) + town and block (replaced)
ADDRESS = re.compile(rf"(?:{_PREFS})\s?{_CITY}\s?({_TOWN}{_BLOCK})")
# a city without prefecture must be followed by a chome/banchi form (the dash form alone is too
# common in medical text: ``3-4`` ranges)
ADDRESS_CITY = _Gated(
    re.compile(
        rf"(?<!{_NOT_ADDR}){_CITY}\s?({_TOWN}\d+(?:丁目\s?\d+(?:番地?\s?\d*号?)?|番地?\s?\d+号?)|"
        rf"{_TOWN}\d+-\d+-\d+)"
    ),
    # the city's 市区町村 (at most 6 + 6 characters in) with a digit at most 17 characters after it
    gates=tuple(rf"{c}[^\d、。,.()「」:;]{{0,17}}\d" for c in "市区町村"),
    before=12,
)
ADDRESS_LABELLED = re.compile(r"(?:住所|現住所|居住地|自宅住所)\s?[:]?\s?([^\n、。]{4,60})")

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
_YMD = rf"年\s?{_M}\s?月\s?{_D}\s?日"
DATE_FULL = _Gated(
    re.compile(
        "|".join(
            [
                rf"{_NB}(?:1[89]|20)\d\d\s?年\s?{_M}\s?月\s?{_D}\s?日{_BIRTH}",
                rf"{_ERA}\s?{_Y}\s?年\s?{_M}\s?月\s?{_D}\s?日{_BIRTH}",
                rf"{_NB}(?:1[89]|20)\d\d([/.\-]){_M}\1{_D}{_NA}",
                rf"(?<![A-Za-z0-9])[RHSTMrhstm]\s?{_Y}([./\-]){_M}\2{_D}{_NA}",  # H30.1.5, R5/4/12
            ]
        )
    ),
    # 年 (at most 4 + 1 or 2 + 1 + 2 + 1 characters in), or the first of two equal separators (at
    # most 4 in): gates that each start with one literal character
    gates=(_YMD, *(rf"{re.escape(c)}{_M}{re.escape(c)}{_D}" for c in "/.-")),
    before=6,
)
DATE_MONTH_DAY = _Gated(
    re.compile(rf"(?<![\d年XYZxyz])(?<!第){_M}\s?月\s?{_D}\s?日"), gates=rf"月\s?{_D}\s?日", before=3
)
DATE_YEAR_MONTH = _Gated(
    re.compile(rf"(?:{_NB}(?:1[89]|20)\d\d|{_ERA}\s?{_Y})\s?年\s?{_M}\s?月"),
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

ALL_TYPES = ("name", "phone", "email", "postal", "address", "id", "mynumber", "date")
PLACEHOLDER = {t: f"<{t.upper()}>" for t in ALL_TYPES}


def _groupspan(m: re.Match, group: int) -> tuple[int, int]:
    for g in range(group, (m.lastindex or 0) + 1):
        if m.group(g) is not None:
            return m.span(g)
    return m.span()


def find_structured(
    text: str, types: frozenset[str], *, keep_year_month: bool = True, month_day: bool = True
) -> list[tuple[int, int, str]]:
    """Spans of structured identifiers in ``text`` (raw or normalized) as ``(start, end, type)``."""
    f = fold(text)
    spans: list[tuple[int, int, str]] = []

    def add(s: int, e: int, kind: str) -> None:
        if kind in types and e > s:
            spans.append((s, e, kind))

    # order matters only for overlaps: earlier-listed (more specific) kinds win; a kind not asked
    # for adds no span, so its patterns are not run
    if "email" in types and "@" in f:
        for m in EMAIL.finditer(f):
            add(*m.span(), "email")
    # (a pattern that starts with a label runs only if one of its labels is in the text)
    if "mynumber" in types:
        if "マイナンバー" in f or "個人番号" in f:
            for m in MYNUMBER_LABELLED.finditer(f):
                add(*m.span(1), "mynumber")
        for m in MYNUMBER.finditer(f):
            if mynumber_valid(re.sub(r"\D", "", m.group(1))):
                add(*m.span(1), "mynumber")
    if "postal" in types and ("〒" in f or "郵便番号" in f):
        for m in POSTAL.finditer(f):
            add(*_groupspan(m, 1), "postal")
    if "date" in types:
        if "生年月日" in f or "誕生日" in f or "DOB" in f:
            for m in BIRTH_LABELLED.finditer(f):
                add(*m.span(1), "date")
        for m in BIRTH_YEAR_MONTH.finditer(f):
            add(*m.span(), "date")
        for m in DATE_FULL.finditer(f):
            add(*m.span(), "date")
    if "phone" in types:
        for m in PHONE.finditer(f):
            digits = re.sub(r"\D", "", m.group())
            if digits.startswith("81") and m.group().startswith("+"):
                digits = "0" + digits[2:].lstrip("0")
            if len(digits) in (10, 11) and digits.startswith("0") and not digits.startswith("00"):
                add(*m.span(), "phone")
    if "id" in types and any(label in f for label in _ID_LABEL_PARTS):
        for m in LABELLED_ID.finditer(f):
            add(*m.span(1), "id")
    if "address" in types:
        if "都" in f or "道" in f or "府" in f or "県" in f:  # each prefecture's name ends in one
            for m in ADDRESS.finditer(f):
                add(*m.span(1), "address")
        for m in ADDRESS_CITY.finditer(f):
            add(*m.span(1), "address")
        if "住所" in f or "居住地" in f:
            for m in ADDRESS_LABELLED.finditer(f):
                s, e = m.span(1)
                inner = ADDRESS.search(f, s, e)
                if inner is None:  # no recognisable prefecture + city: the whole labelled value goes
                    add(s, e, "address")
    if month_day and "date" in types:
        for m in DATE_MONTH_DAY.finditer(f):
            add(*m.span(), "date")
    if not keep_year_month and "date" in types:
        for m in DATE_YEAR_MONTH.finditer(f):
            add(*m.span(), "date")
    return _resolve(spans)


def _resolve(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping spans: the first-found of overlapping spans wins, except that a span fully
    containing another replaces it."""
    chosen: list[tuple[int, int, str]] = []
    for s, e, k in spans:
        clash = [c for c in chosen if c[0] < e and s < c[1]]
        if not clash:
            chosen.append((s, e, k))
        elif all(s <= c[0] and c[1] <= e for c in clash) and (e - s) > max(c[1] - c[0] for c in clash):
            for c in clash:
                chosen.remove(c)
            chosen.append((s, e, k))
    return sorted(chosen)
