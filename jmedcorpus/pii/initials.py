"""Initials: ``K.Y.``, ``Ｋ．Ｙ．``, ``K. Y. T.``, ``KY氏``, ``Ｋ・Ｙさん``, ``症例：K.Y.``, ``患者KY（45歳）``.

The case-report guideline forbids initials as it forbids names. What is kept, and why:

- one letter, ``A氏``, ``Aさん``, ``患者A``, ``症例B``: the anonymized labels the guideline asks
  authors to use instead; they identify nobody.
- capitals without dots and without a person's context: ``CRP``, ``CT``, ``IgG``, ``HbA1c``,
  ``p.R123H``, ``AIH様`` (様 after an abbreviation means "-like", never an honorific here).
- dotted abbreviations of lab values, units and clinical shorthand (:data:`DOTTED_ABBREVIATIONS`:
  ``T.B.`` total bilirubin, ``I.C.`` informed consent, ``K.U.`` King units, RECIST ``P.D.``),
  and dotted capitals right after a number (a unit: ``52K.U.``) or before one (``N.O.8a``, a
  lymph-node station).

Redacted, on the folded text (full-width → ASCII):

1. two or three dotted capitals, each with its dot (``K.Y.``, ``K. Y. T.``) anywhere else;
2. dotted or ``・``-joined capitals, last dot optional, before an honorific (さん, 様, 氏, 君, くん,
   ちゃん, 先生), after 患者/症例 (with は, の or a colon between), or before an age
   (``K.Y（45歳``, ``K.Y, 45歳``);
3. two or three capitals without dots before さん, 氏, 君, くん or ちゃん (``KY氏``), or after
   患者/症例 and before an age (``症例KY, 45歳``).

Measured on 294 real case reports and 2,000 exam questions: no dotted capitals there are initials
(the only ones are units and ``N.O.``), see ``bench/pii_accuracy.py``.
"""

from __future__ import annotations

import re

from jmedcorpus.pii.patterns import _Gated

# dotted capitals that are not initials, without dots and spaces; Japanese reports write them so
# (the units were found in the MedTxt-CR reports, the rest are common clinical shorthand)
_LAB = "TB DB IB TP TC TG BS BT BW BP HR RR PR WBC RBC BUN LDH CRP CK TSH HT DM RA SLE IQ"
_UNITS = "KU BLU KAU GRU"  # King, Bodansky, King-Armstrong, Goldbarg-Rutenburg units
_STATISTICS = "SD SE CI OR NS"
_ROUTES_AND_TIMES = "IV IM SC PO AM PM"
_CLINICAL = (
    "IC DC FU NP PS CR PD NED ADL QOL JCS GCS ICU CCU ER OP OT PT ST GI DIC CT MR MRI PET EEG ECG EKG "
    "TR AR MS AV SA AF VF VT EF FS CMV EBV HIV HBV HCV ASO VS AP LR NB AG BI NO MD DO RN"
)
_PLACES = "US UK USA AD BC"
DOTTED_ABBREVIATIONS = frozenset(
    word
    for group in (_LAB, _UNITS, _STATISTICS, _ROUTES_AND_TIMES, _CLINICAL, _PLACES)
    for word in group.split()
)
_HONORIFIC = r"(?:さん|様|氏|君|くん|ちゃん|先生)"
_AGE = r"\s?[(,、]\s?\d{1,3}歳"
_LABEL = r"(?:患者|症例)(?:[はの]|\s?:)?\s?"

# dotted (or ・-joined) capitals: the candidates of forms 1 and 2, judged by their context
_DOTTED = _Gated(
    # not inside a longer word or dotted abbreviation (U.S.A.); a sentence's period may come before
    re.compile(r"(?<![A-Za-z0-9])(?<![A-Za-z]\.)(?:[A-Z][.・]\s?){1,2}[A-Z](?:\.(?![a-z]))?(?![A-Za-z])"),
    # the first separator, one character after the start
    gates=(r"\.(?<=[A-Z]\.)", r"・(?<=[A-Z]・)"),
    before=1,
)
_AFTER_LABEL = re.compile(_LABEL + r"\Z")
_BEFORE_CONTEXT = re.compile(rf"\s?{_HONORIFIC}|{_AGE}")
_NUMBER_AFTER = re.compile(r"\s?\d")
_UNDOTTED = _Gated(
    re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,3}(?=\s?(?:さん|氏|君|くん|ちゃん))"),
    # the honorific's last character with the honorific and a capital before it: one literal
    # character first, the cheapest to look for (ん ends さん, くん and ちゃん: one scan for three)
    gates=tuple(
        last + "(?:" + "|".join(rf"(?<=[A-Z]{h})|(?<=[A-Z]\s{h})" for h in hs) + ")"
        for last, hs in (("ん", ("さん", "くん", "ちゃん")), ("氏", ("氏",)), ("君", ("君",)))
    ),
    before=6,  # ABC ちゃん: 3 capitals, a space, ちゃ
)
_UNDOTTED_LABELLED = _Gated(
    re.compile(rf"{_LABEL}([A-Z]{{2,3}})(?={_AGE})"),
    # the label with capitals after it: each gate starts with one literal character, and the
    # lookahead turns away the many 患者 and 症例 of a report at once
    gates=tuple(rf"{label}(?=(?:[はの]|\s?:)?\s?[A-Z]{{2}})" for label in ("患者", "症例")),
    before=0,
)


def find_initials(folded: str) -> list[tuple[int, int]]:
    """Spans of initials in ``folded`` (a :func:`jmedcorpus.pii.patterns.fold` of the text).

    >>> t = "症例はK.Y.、45歳女性。T.B. 1.2 mg/dL、52K.U.、A氏、AIH様、KY氏、Ｋ・Ｙさん"
    >>> from jmedcorpus.pii.patterns import fold
    >>> [t[s:e] for s, e in find_initials(fold(t))]
    ['K.Y.', 'KY', 'Ｋ・Ｙ']
    """
    spans: list[tuple[int, int]] = []
    for m in _DOTTED.finditer(folded):
        s, e = m.span()
        g = m.group()
        in_context = _BEFORE_CONTEXT.match(folded, e) or _AFTER_LABEL.search(folded, max(0, s - 6), s)
        if in_context or ("・" not in g and g.endswith(".") and _stands_alone(folded, s, e, g)):
            spans.append((s, e))
    spans += (m.span() for m in _UNDOTTED.finditer(folded))
    spans += (m.span(1) for m in _UNDOTTED_LABELLED.finditer(folded))
    return sorted(spans)


def _stands_alone(folded: str, s: int, e: int, g: str) -> bool:
    """Form 1: not a listed abbreviation and not a unit or label next to a number."""
    if g.replace(".", "").replace(" ", "") in DOTTED_ABBREVIATIONS:
        return False
    if _NUMBER_AFTER.match(folded, e):
        return False
    before = folded[max(0, s - 2) : s].rstrip()
    return not (before and before[-1].isdigit())
