"""The ``personal_info`` step: replace personal identifiers with typed placeholders.

Follows the Act on the Protection of Personal Information and the Japanese surgical societies'
case-report guideline: no names or initials, no admission/chart/biopsy/imaging numbers, no address
below the city, no date finer than year-month.

==============  ================  ==================================================================
type            placeholder       what (examples; full-width and dash variants alike)
==============  ================  ==================================================================
``name``        ``<NAME>``        ``山田花子``, ``鈴木先生``, ``患者氏名：田中 一郎``, ``A.B.さん``
``phone``       ``<PHONE>``       ``03-1234-5678``, ``(03)1234-5678``, ``090-1234-5678``,
                                  ``0120-123-456``, ``+81-3-1234-5678``, ``０９０－１２３４－５６７８``
``email``       ``<EMAIL>``       ``taro@example.co.jp``
``postal``      ``<POSTAL>``      ``〒160-0023`` → ``〒<POSTAL>``
``address``     ``<ADDRESS>``     ``東京都新宿区西新宿2-8-1`` → ``東京都新宿区<ADDRESS>`` (prefecture and
                                  city kept), ``住所：...`` without a recognisable city: all of it
``id``          ``<ID>``          the value after 患者ID, カルテ番号, 診察券番号, 入院番号, 病理番号, 生検番号,
                                  画像番号, 保険者番号, 被保険者番号, 記号・番号 ... (the label is kept)
``mynumber``    ``<MYNUMBER>``    12 digits with a valid check digit, or any 12 digits after マイナンバー
``date``        ``<DATE>``        exact dates ``2023年4月12日``, ``2023/4/12``, ``令和5年4月12日``,
                                  ``H30.1.5``, ``4月12日``; birth dates in any precision
==============  ================  ==================================================================

Kept: years (``2019年``), year-month (``2019年4月``, unless ``keep_year_month=False``), relative
dates already anonymized (``X年Y月Z日``, ``第3病日``), lab values, doses, eponymous diseases and signs
(``バセドウ病``, ``川崎病``, ``ギラン・バレー症候群``), drug names. Measured on 294 real case reports
and a planted set: ``bench/pii_accuracy.py``.

Writes ``pii_<type>`` counts (how many spans of each type were replaced) — never the strings. An
exception inside the step propagates, and the build quarantines the document (``step_error``):
a document is never passed through unredacted.
"""

from __future__ import annotations

from typing import ClassVar

from datatrove.pipeline.formatters.base import BaseFormatter

from jmedcorpus.pii.names import find_names, last_word_tokens
from jmedcorpus.pii.patterns import ALL_TYPES, PLACEHOLDER, find_structured, fold, remember_fold
from jmedcorpus.registry import register_step
from jmedcorpus.text.mecab import remember_tokens

_UNSAFE_CHARS = ("\x00",)


def redact(
    text: str,
    types: frozenset[str] = frozenset(ALL_TYPES),
    *,
    keep_year_month: bool = True,
    month_day: bool = True,
) -> tuple[str, dict[str, int]]:
    """``text`` with identifiers replaced, and how many of each type were replaced.

    >>> redact("患者氏名：山田花子、連絡先 03-1234-5678。2023年4月12日に入院。")[0]
    '患者氏名：<NAME>、連絡先 <PHONE>。<DATE>に入院。'
    """
    counts = dict.fromkeys(ALL_TYPES, 0)
    spans = find_structured(text, types, keep_year_month=keep_year_month, month_day=month_day)
    if "name" in types:
        if spans:  # the names are found on the redacted text: fold it by redacting the fold
            folded = _apply(fold(text), spans, None)
            text = _apply(text, spans, counts)
            remember_fold(text, folded)
        text = _apply(text, [(s, e, "name") for s, e in find_names(text)], counts)
    else:
        text = _apply(text, spans, counts)
    return text, counts


def _apply(text: str, spans: list[tuple[int, int, str]], counts: dict[str, int] | None) -> str:
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for s, e, kind in spans:
        parts.append(text[last:s])
        parts.append(PLACEHOLDER[kind])  # ASCII: folding leaves it as it is
        if counts is not None:
            counts[kind] += 1
        last = e
    parts.append(text[last:])
    return "".join(parts)


@register_step("personal_info")
class PersonalInfoRedactor(BaseFormatter):
    """Replace personal identifiers with typed placeholders (see the module docstring).

    Args:
        types: identifier types to redact, any of ``name phone email postal address id mynumber
            date`` (default ``None``: all of them).
        keep_year_month: keep ``2019年4月`` and ``令和元年5月`` (default ``True``: the case-report
            guideline allows year-month); ``False`` replaces them with ``<DATE>`` too.
        month_day: replace a month-day without a year, ``4月12日`` (default ``True``).
    """

    name = "personal_info"
    signal_fields: ClassVar[dict[str, str]] = {f"pii_{t}": "int64" for t in ALL_TYPES}

    def __init__(
        self, *, types: list[str] | None = None, keep_year_month: bool = True, month_day: bool = True
    ) -> None:
        super().__init__()
        chosen = list(ALL_TYPES) if types is None else list(types)
        unknown = sorted(set(chosen) - set(ALL_TYPES))
        if unknown:
            raise ValueError(f"types: unknown {unknown}; choose from {', '.join(ALL_TYPES)}")
        self.types = frozenset(chosen)
        self.keep_year_month = keep_year_month
        self.month_day = month_day

    def format(self, text: str) -> str:
        return redact(text, self.types, keep_year_month=self.keep_year_month, month_day=self.month_day)[0]

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            self.stat_update("total")
            with self.track_time():
                text = doc.text
                doc.text, counts = redact(
                    text, self.types, keep_year_month=self.keep_year_month, month_day=self.month_day
                )
                if doc.text is text:  # unchanged: MeCab's tokens of it serve the ``mecab`` step
                    tokens = last_word_tokens(text)
                    if tokens is not None:
                        remember_tokens(text, tokens)
                for kind, c in counts.items():
                    doc.metadata[f"pii_{kind}"] = c
                    if c:
                        self.stat_update(f"pii_{kind}", value=c)
            yield doc
