"""Every identifier found without MeCab, as ``(start, end, type)`` spans: the patterns of
:mod:`jmedcorpus.pii.patterns`, addresses (:mod:`jmedcorpus.pii.addresses`) and facility names
(:mod:`jmedcorpus.pii.facilities`), on one folded copy of the text (:func:`fold`)."""

from __future__ import annotations

import re

from jmedcorpus.pii.addresses import find_addresses
from jmedcorpus.pii.facilities import find_facilities
from jmedcorpus.pii.patterns import (
    _ID_LABEL_PARTS,
    BIRTH_LABELLED,
    BIRTH_YEAR_MONTH,
    DATE_FULL,
    DATE_MONTH_DAY,
    DATE_YEAR_MONTH,
    EMAIL,
    LABELLED_ID,
    MYNUMBER,
    MYNUMBER_LABELLED,
    PHONE,
    POSTAL,
    fold,
    mynumber_valid,
)

ALL_TYPES = ("name", "facility", "phone", "email", "postal", "address", "id", "mynumber", "date")
PLACEHOLDER = {t: f"<{t.upper()}>" for t in ALL_TYPES}


def _groupspan(m: re.Match, group: int) -> tuple[int, int]:
    for g in range(group, (m.lastindex or 0) + 1):
        if m.group(g) is not None:
            return m.span(g)
    return m.span()


def _is_birth(m: re.Match) -> bool:
    return m.group().endswith(("生", "まれ"))


def find_structured(
    text: str, types: frozenset[str], *, keep_year_month: bool = True, month_day: bool = True
) -> list[tuple[int, int, str]]:
    """Spans of structured identifiers in ``text`` (raw or normalized) as ``(start, end, type)``,
    non-overlapping, in text order. With ``keep_year_month`` a date's span is its day only
    (``2017年2月22日`` → ``2017年2月`` + the span of ``22日``), except for birth dates."""
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
            keep = keep_year_month and not _is_birth(m)
            add(m.start(m.lastgroup) if keep else m.start(), m.end(), "date")
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
    if "facility" in types:
        for s, e in find_facilities(f):
            add(s, e, "facility")
    if "address" in types:
        for s, e in find_addresses(f):
            add(s, e, "address")
    if month_day and "date" in types:
        for m in DATE_MONTH_DAY.finditer(f):
            add(m.start("d") if keep_year_month else m.start(), m.end(), "date")
    if not keep_year_month and "date" in types:
        for m in DATE_YEAR_MONTH.finditer(f):
            add(*m.span(), "date")
    return resolve_overlaps(spans)


def resolve_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
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
