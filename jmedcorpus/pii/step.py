"""The ``personal_info`` step: replace personal identifiers with typed placeholders.

Follows the Act on the Protection of Personal Information and the Japanese surgical societies'
case-report guideline (外科関連学会協議会): no names, initials or calling names; no address below the
city; dates at most year-month; no names of the hospitals that treated the patient before; no
admission, chart, biopsy, autopsy or image numbers.

==============  ================  ==================================================================
type            placeholder       what (examples; full-width and dash variants alike)
==============  ================  ==================================================================
``name``        ``<NAME>``        ``山田花子``, ``鈴木先生``, ``患者氏名：田中 一郎``; initials
                                  (:mod:`~jmedcorpus.pii.initials`): ``症例はK.Y.、45歳`` →
                                  ``症例は<NAME>、45歳``, ``Ｋ．Ｙ．``, ``KY氏``, ``K・Yさん``,
                                  ``症例：K.Y.``; not ``A氏``, ``患者A`` (already anonymized), not
                                  ``CRP``, ``T.B.``, ``IgG``, ``HbA1c``, ``p.R123H``
``facility``    ``<FACILITY>``    a named hospital or clinic (:mod:`~jmedcorpus.pii.facilities`):
                                  ``前医の田中内科クリニックで`` → ``前医の<FACILITY>で``,
                                  ``東京大学医学部附属病院``, ``〇〇市立病院``,
                                  ``国立がん研究センター中央病院``; not 当院, 近医, 前医, 総合病院,
                                  大学病院, ``A病院`` (the anonymized label)
``phone``       ``<PHONE>``       ``03-1234-5678``, ``(03)1234-5678``, ``090-1234-5678``,
                                  ``0120-123-456``, ``+81-3-1234-5678``, ``０９０－１２３４－５６７８``
``email``       ``<EMAIL>``       ``taro@example.co.jp``
``postal``      ``<POSTAL>``      ``〒160-0023`` → ``〒<POSTAL>``
``address``     ``<ADDRESS>``     below the city (:mod:`~jmedcorpus.pii.addresses`), labelled or
                                  not: ``東京都新宿区西新宿2-8-1`` → ``東京都新宿区<ADDRESS>``,
                                  ``横浜市青葉区美しが丘2丁目在住`` → ``横浜市<ADDRESS>在住`` (a
                                  designated city's ward is below the city); ``住所：...`` without
                                  a recognisable city: all of it
``id``          ``<ID>``          the value after 患者ID, カルテ番号, 診察券番号, 入院番号, 病理番号, 生検番号,
                                  画像番号, 保険者番号, 被保険者番号, 記号・番号 ... (the label is kept)
``mynumber``    ``<MYNUMBER>``    12 digits with a valid check digit, or any 12 digits after マイナンバー
``date``        ``<DATE>``        the day of an exact date, and its weekday: ``2017年2月22日(水)`` →
                                  ``2017年2月<DATE>``, ``2017/2/22`` → ``2017/2/<DATE>``,
                                  ``令和5年4月12日`` → ``令和5年4月<DATE>``, ``H30.1.5`` → ``H30.1.<DATE>``,
                                  ``同年4月12日``/``X年4月12日``/``4月12日`` → ``…4月<DATE>``; with
                                  ``keep_year_month=False`` the whole date; birth dates
                                  (``生年月日：``, ``…生まれ``) whole, in any precision
==============  ================  ==================================================================

Kept: years (``2019年``), year-month (``2019年4月``, unless ``keep_year_month=False``), relative
dates already anonymized (``X年Y月Z日``, ``第3病日``), lab values, doses, drug names, eponyms
(:mod:`~jmedcorpus.pii.eponyms`: ``高安動脈炎``, ``菊池病``, ``原田氏病``, ``山田IV型``,
``バセドウ病``, ``ギラン・バレー症候群``). Measured on 294 real case reports with identifiers planted
in them, and on those reports and 2,000 licensing-exam questions as they are:
``bench/pii_accuracy.py``.

Writes ``pii_<type>`` counts (how many spans of each type were replaced) — never the strings. An
exception inside the step propagates, and the build quarantines the document (``step_error``):
a document is never passed through unredacted.
"""

from __future__ import annotations

from typing import ClassVar

from datatrove.pipeline.formatters.base import BaseFormatter

from jmedcorpus.pii.facilities import find_kana_facilities
from jmedcorpus.pii.names import find_names, last_word_tokens
from jmedcorpus.pii.patterns import fold, remember_fold
from jmedcorpus.pii.structured import ALL_TYPES, PLACEHOLDER, find_structured, resolve_overlaps
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
    '患者氏名：<NAME>、連絡先 <PHONE>。2023年4月<DATE>に入院。'
    """
    counts = dict.fromkeys(ALL_TYPES, 0)
    spans = find_structured(text, types, keep_year_month=keep_year_month, month_day=month_day)
    if "name" in types or "facility" in types:  # the MeCab rules
        if spans:  # they run on the redacted text: fold it by redacting the fold
            folded = _apply(fold(text), spans, None)
            text = _apply(text, spans, counts)
            remember_fold(text, folded)
        found = [(s, e, "name") for s, e in find_names(text)] if "name" in types else []
        if "facility" in types:  # (on the tokens find_names made)
            found += [(s, e, "facility") for s, e in find_kana_facilities(text)]
        text = _apply(text, resolve_overlaps(found), counts)
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
        types: identifier types to redact, any of ``name facility phone email postal address id
            mynumber date`` (default ``None``: all of them).
        keep_year_month: keep ``2019年4月`` and ``令和元年5月``, and the year-month of an exact
            date, whose day alone is replaced (default ``True``: the case-report guideline allows
            year-month); ``False`` replaces year-months and whole exact dates with ``<DATE>``.
        month_day: replace a month-day without a year, ``4月12日`` (default ``True``; its day only
            while ``keep_year_month``).
    """

    name = "personal_info"
    signal_fields: ClassVar[dict[str, str]] = {f"pii_{t}": "int64" for t in ALL_TYPES}
    # 0 on most documents: a log axis of them says nothing; the share with any is what matters
    signal_kinds: ClassVar[dict[str, str]] = dict.fromkeys(signal_fields, "sparse_count")

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
