"""Structured personal identifiers found by regular expressions: phones, e-mail, postal codes,
addresses below the city, My Number, labelled IDs and exact dates.

Every pattern runs on a *folded* copy of the text of exactly the same length (full-width ASCII →
ASCII, ideographic space → space, every dash and the prolonged-sound mark → ``-``), so one pattern
matches ``03-1234-5678``, ``０３－１２３４－５６７８`` and ``03ー1234ー5678`` alike, and the spans
found apply unchanged to the original text.

:func:`find_structured` returns ``(start, end, type)`` spans, non-overlapping, in text order.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- folding (length-preserving)
_FOLD = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = " "
for _cp in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0x30FC, 0xFE63, 0xFF70):
    _FOLD[_cp] = "-"


def fold(text: str) -> str:
    """Full-width ASCII → ASCII, dashes → ``-``; one character for one character.

    >>> fold("０９０－１２３４ー５６７８　Ｔｅｌ")
    '090-1234-5678 Tel'
    """
    return text.translate(_FOLD)


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

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

_MYNUM_LABEL = r"(?:マイナンバー|個人番号)\s?(?:[:#]\s?)?"
MYNUMBER = re.compile(_NB + r"(\d{4}[ -]?\d{4}[ -]?\d{4})" + _NA)
MYNUMBER_LABELLED = re.compile(_MYNUM_LABEL + r"(\d[\d -]{10,14}\d)" + _NA)

PHONE = re.compile(
    _NB
    + r"(?:"
    + r"(?:\+81[ -]?(?:\(0\))?[ -]?\d{1,4}|\(0\d{1,4}\)|0\d{1,4})[ -]?\(?\d{1,4}\)?[ -]?\d{3,4}"
    + r"|\+81\d{9,10}|0\d{9,10}"
    + r")"
    + _NA
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
ADDRESS_CITY = re.compile(
    rf"(?<!{_NOT_ADDR}){_CITY}\s?({_TOWN}\d+(?:丁目\s?\d+(?:番地?\s?\d*号?)?|番地?\s?\d+号?)|"
    rf"{_TOWN}\d+-\d+-\d+)"
)
ADDRESS_LABELLED = re.compile(r"(?:住所|現住所|居住地|自宅住所)\s?[:]?\s?([^\n、。]{4,60})")

_ID_LABELS = (
    r"患者\s?ID|患者番号|患者No\.?|カルテ\s?(?:番号|No\.?|ID)|診察券\s?(?:番号|No\.?)|ID\s?No\.?|"
    r"入院番号|外来番号|病歴番号|病理(?:組織)?番号|病理\s?No\.?|生検番号|細胞診番号|画像番号|検査番号|"
    r"受付番号|被保険者証?(?:記号)?(?:・番号|番号)?|保険者番号|公費負担者番号|受給者番号|記号\s?・?\s?番号|"
    r"記号|番号|MRN|(?<![A-Za-z])ID"
)
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
DATE_FULL = re.compile(
    "|".join(
        [
            rf"{_NB}(?:1[89]|20)\d\d\s?年\s?{_M}\s?月\s?{_D}\s?日{_BIRTH}",
            rf"{_ERA}\s?{_Y}\s?年\s?{_M}\s?月\s?{_D}\s?日{_BIRTH}",
            rf"{_NB}(?:1[89]|20)\d\d([/.\-]){_M}\1{_D}{_NA}",
            rf"(?<![A-Za-z0-9])[RHSTMrhstm]\s?{_Y}([./\-]){_M}\2{_D}{_NA}",  # H30.1.5, R5/4/12
        ]
    )
)
DATE_MONTH_DAY = re.compile(rf"(?<![\d年XYZxyz])(?<!第){_M}\s?月\s?{_D}\s?日")
DATE_YEAR_MONTH = re.compile(rf"(?:{_NB}(?:1[89]|20)\d\d|{_ERA}\s?{_Y})\s?年\s?{_M}\s?月")
_DATE_ANY = (
    rf"(?:{_ERA}\s?{_Y}|(?:1[89]|20)\d\d)\s?年(?:\s?{_M}\s?月)?(?:\s?{_D}\s?日)?"
    rf"|(?:1[89]|20)\d\d[/.\-]{_M}(?:[/.\-]{_D})?|[RHSTMrhstm]\s?{_Y}[./\-]{_M}(?:[./\-]{_D})?"
)
BIRTH_LABELLED = re.compile(rf"(?:生年月日|誕生日|DOB)\s?[:]?\s?((?:{_DATE_ANY}){_BIRTH})")
BIRTH_YEAR_MONTH = re.compile(
    rf"(?:{_ERA}\s?{_Y}|(?:1[89]|20)\d\d)\s?年\s?{_M}\s?月\s?生(?:まれ)?(?![検化体存理食活着])"
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

    # order matters only for overlaps: earlier-listed (more specific) kinds win
    for m in EMAIL.finditer(f):
        add(*m.span(), "email")
    for m in MYNUMBER_LABELLED.finditer(f):
        add(*m.span(1), "mynumber")
    for m in MYNUMBER.finditer(f):
        if mynumber_valid(re.sub(r"\D", "", m.group(1))):
            add(*m.span(1), "mynumber")
    for m in POSTAL.finditer(f):
        add(*_groupspan(m, 1), "postal")
    for m in BIRTH_LABELLED.finditer(f):
        add(*m.span(1), "date")
    for m in BIRTH_YEAR_MONTH.finditer(f):
        add(*m.span(), "date")
    for m in DATE_FULL.finditer(f):
        add(*m.span(), "date")
    for m in PHONE.finditer(f):
        digits = re.sub(r"\D", "", m.group())
        if digits.startswith("81") and m.group().startswith("+"):
            digits = "0" + digits[2:].lstrip("0")
        if len(digits) in (10, 11) and digits.startswith("0") and not digits.startswith("00"):
            add(*m.span(), "phone")
    for m in LABELLED_ID.finditer(f):
        add(*m.span(1), "id")
    for m in ADDRESS.finditer(f):
        add(*m.span(1), "address")
    for m in ADDRESS_CITY.finditer(f):
        add(*m.span(1), "address")
    for m in ADDRESS_LABELLED.finditer(f):
        s, e = m.span(1)
        inner = ADDRESS.search(f, s, e)
        if inner is None:  # no recognisable prefecture + city: the whole labelled value goes
            add(s, e, "address")
    if month_day:
        for m in DATE_MONTH_DAY.finditer(f):
            add(*m.span(), "date")
    if not keep_year_month:
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
