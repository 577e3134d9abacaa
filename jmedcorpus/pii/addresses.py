"""Addresses below the city, labelled (``住所：...``) or in running text (``横浜市青葉区美しが丘2丁目在住``).

The case-report guideline: no address, or where the place matters to the disease, down to the
city (``神奈川県``, ``横浜市``). So the prefecture and the city (市, 郡 + 町/村, and Tokyo's special
wards, which are cities) are kept and everything below them is replaced, **including the ward of
a designated city** (政令指定都市): ``横浜市青葉区美しが丘2丁目在住`` → ``横浜市<ADDRESS>在住``,
``大阪府大阪市北区梅田3丁目1番1号`` → ``大阪府大阪市<ADDRESS>``, ``東京都新宿区西新宿2-8-1`` →
``東京都新宿区<ADDRESS>``.

Forms (all on the folded text, :func:`jmedcorpus.pii.patterns.fold`):

- prefecture + city + town + block (``丁目``/``番地``/``号`` in kanji or the dash form ``2-8-1``);
- city + town + block without the prefecture: the block must be a chome/banchi form or three
  dash-joined numbers (``3-4`` alone is a range in medical text);
- city + ward or town before 在住, 居住, に住む, の自宅 (``横浜市青葉区在住``, ``八王子市南大沢在住``);
  ``横浜市在住``, ``市内在住`` and a one-letter label (``A市B町在住``) stay;
- a town with a chome or banchi and no city (``美しが丘2丁目``), the town ending at a particle;
- the value after 住所/現住所/居住地/自宅住所 without a recognisable prefecture and city: all of it.
"""

from __future__ import annotations

import re

from jmedcorpus.pii.patterns import _Gated

_PREFS = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|"
    "新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|"
    "奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|"
    "長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_BOUNDARY = r"\s\d、。,.()「」:;"
_X = rf"[^{_BOUNDARY}]"  # a character of a place name (or of the words before it)
# the city, kept: an optional district (郡) then the city, town or village; a designated city's
# ward is not part of it (the lazy repeat stops at the first 市区町村 character)
_CITY = rf"(?:{_X}{{1,5}}?郡)?{_X}{{1,6}}?[市区町村]"
_NUM = r"(?:\d{1,3}|[一二三四五六七八九十]{1,3})"  # a chome number
# below the city: a town name, then a block, then an optional room. Blocks: 2丁目, 二丁目, 2丁目3番4号,
# 4丁目26-7; 123番地, 3番4号; dash-joined numbers
_CHOME = rf"{_NUM}丁目(?:\s?\d+(?:番地?\s?\d*号?|(?:-\d+)+)?)?"
_ROOM = rf"(?:\s?{_X}{{0,15}}?\d+号室)?"
_BLOCK = rf"(?:{_CHOME}|\d+番地?(?:\s?\d+号?)?|\d+(?:-\d+)+号?){_ROOM}"
# without a prefecture, 番 needs 地 or a 号 number and the dash form three numbers (3-4 alone is a
# range in medical text)
_BLOCK_RUNNING = rf"{_CHOME}|\d+番地(?:\s?\d+号?)?|\d+番\s?\d+号?|\d+-\d+-\d+"
_TOWN = rf"{_X}{{0,10}}?\s?"
# a prefecture anchors the city wherever it is (自宅は東京都…); without one the city starts a word
_START = rf"(?:(?:{_PREFS})\s?|(?<!{_X}))"
# prefecture + city (kept) + ward, town and block (replaced); tried only where a prefecture ends
# (a pattern that starts with 47 alternatives is tried at every character otherwise)
ADDRESS = _Gated(
    re.compile(rf"(?:{_PREFS})\s?{_CITY}\s?({_TOWN}{_BLOCK})"), gates=("都", "道", "府", "県"), before=3
)
ADDRESS_CITY = _Gated(
    re.compile(rf"{_START}{_CITY}\s?({_TOWN}(?:{_BLOCK_RUNNING}))"),
    # the city's 市区町村 (at most 4 + 1 + 6 + 6 characters in) with a number at most 17 characters
    # after it (spaces may come between: the class is _X's and whitespace)
    gates=tuple(rf"{c}[^\d、。,.()「」:;]{{0,17}}(?:\d|[一二三四五六七八九十]+丁目)" for c in "市区町村"),
    before=17,
)
_RESIDENT = r"\s?に?(?:在住|居住|住む|住ん|の自宅)"
# the ward or town before 在住: it may not end in a particle (近隣の町に在住)
ADDRESS_RESIDENT = _Gated(
    re.compile(rf"{_START}{_CITY}\s?({_X}{{0,13}}?[^{_BOUNDARY}のにでをがはとへもや])(?={_RESIDENT})"),
    # the match starts at most 5 (prefecture) + 13 (city) + 14 (town) + 2 characters before the word;
    # each gate starts with one literal character, the cheapest to look for (住所 is no gate)
    gates=(r"住(?:(?<=在住)|(?<=居住)|(?=[むん]))", "自宅"),
    before=36,
)
_NOT_BELOW_CITY = frozenset(["内", "外", "部", "近郊", "郊外", "周辺", "近辺", "付近", "地域", "全域"])
_ONE_LETTER = re.compile(r"[A-Z][市区町村]?")  # an anonymized label: A市B町在住
# a town with a chome/banchi and no city before it: the town ends at a particle or a city word
ADDRESS_TOWN = _Gated(
    re.compile(
        rf"(?<![^{_BOUNDARY}はのにでをともへ市区郡都道府県])[^{_BOUNDARY}はのにでをともへ市区郡都道府県]{{1,8}}?"
        rf"(?:{_CHOME}|\d{{1,5}}番地(?:\s?\d+号?)?)"
    ),
    gates=("丁目", "番地"),
    before=13,  # 8 + 5
)
# a label, then a colon or a space (not 住所が, 住所の: prose about addresses), then the value
ADDRESS_LABELLED = re.compile(r"(?:住所|現住所|居住地|自宅住所)(?:[ \t]?:[ \t]?|[ \t])([^\n、。]{4,60})")


def find_addresses(folded: str) -> list[tuple[int, int]]:
    """Spans of addresses below the city in ``folded``, in the order found (they may overlap).

    >>> t = "横浜市青葉区美しが丘2丁目在住。東京都新宿区西新宿2-8-1。大阪市北区在住、横浜市在住、市内在住"
    >>> [t[s:e] for s, e in find_addresses(t)]
    ['西新宿2-8-1', '青葉区美しが丘2丁目', '西新宿2-8-1', '北区', '美しが丘2丁目']
    """
    spans: list[tuple[int, int]] = []
    spans += (m.span(1) for m in ADDRESS.finditer(folded))
    spans += (m.span(1) for m in ADDRESS_CITY.finditer(folded))
    for m in ADDRESS_RESIDENT.finditer(folded):
        below = m.group(1)
        if below not in _NOT_BELOW_CITY and not _ONE_LETTER.fullmatch(below):
            spans.append(m.span(1))
    spans += (m.span() for m in ADDRESS_TOWN.finditer(folded))
    if "住所" in folded or "居住地" in folded:
        for m in ADDRESS_LABELLED.finditer(folded):
            s, e = m.span(1)
            if ADDRESS.regex.search(folded, s, e) is None:  # no prefecture + city: all of it goes
                spans.append((s, e))
    return spans
