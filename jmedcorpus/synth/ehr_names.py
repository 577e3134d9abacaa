"""The local lab-test names of the EHR normalization template: found in the selected passages
by a simple rule, or read from a file (``--local-names``); each becomes one generation unit.

**The rule.** In case reports and clinical notes a lab result is written as a name followed by
its value and unit: ``AST 93 U/L``, ``γ-GTP 481U/L``, ``CRP3.97mg/dL``, ``白血球数7950/μL``,
``Alb 3.0 g/dL``. On the NFKC text, a local name is

- a Latin- or Greek-led token of 1-16 letters, digits and ``-./・`` (``T-Bil``, ``HbA1c``,
  ``NH3``, ``γGTP``), or a run of 2-10 kanji and katakana (``総ビリルビン``, ``白血球数``;
  hiragana ends it, so ``検査ではアルブミン`` gives ``アルブミン``),
- followed by spaces or a colon (or nothing after a letter: ``CRP3.97`` is ``CRP``), a number
  (``7,950``, ``3.0``) and one of the lab units of :data:`LAB_UNITS` (mass and enzyme
  concentrations, counts per μL, electrolytes, %, seconds).

Vital signs (``38.5℃``, ``120/80 mmHg``, ``脈拍 90/分``) do not match: their units are not lab
units. What the rule lets through that is not a lab test (``SpO2 98%``) is left to the model and
the master check (``synth_not_in_master``). Names are de-duplicated by NFKC spelling, keeping
the first passage (in the selection's document/passage order) that has them: one unit per
distinct local name, with that passage as the context shown to the model and as the row's
provenance.

**The file**: UTF-8 text, one local name per line; blank lines and lines starting with ``#``
are skipped; duplicates keep their first line. Units from a file have no passage.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from jmedcorpus.errors import UserError
from jmedcorpus.io.encodings import decode_text_file
from jmedcorpus.synth.items import nfkc
from jmedcorpus.synth.passages import Passage

LAB_UNITS = (
    "mg/dL", "g/dL", "μg/dL", "ng/dL", "ng/mL", "pg/mL", "μg/mL", "mg/L", "U/L", "IU/L", "mIU/mL",
    "μIU/mL", "U/mL", "/μL", "×10^4/μL", "×10^3/μL", "万/μL", "mEq/L", "mmol/L", "μmol/L", "%",
    "mL/min/1.73m2", "mL/分/1.73m2", "秒", "sec", "fL", "pg",
)  # fmt: skip
_UNIT = "|".join(re.escape(u) for u in sorted(LAB_UNITS, key=len, reverse=True))
LOCAL_NAME = re.compile(
    r"(?<![A-Za-z0-9α-ωΑ-Ω])(?P<name>[A-Za-zα-ωΑ-Ω][A-Za-z0-9α-ωΑ-Ω\-./・]{0,15}"
    r"|[\u30a0-\u30ff\u3400-\u9fff]{2,10})"
    # a name written against its value ("CRP3.97") ends in a letter: not "CRP3.9" + "7"
    rf"(?:\s*:\s*|\s+|(?<=[A-Za-zα-ωΑ-Ω\u30a0-\u30ff\u3400-\u9fff]))"
    rf"[0-9][0-9,]*(?:\.[0-9]+)?\s*(?:{_UNIT})(?![A-Za-z])"
)
FILE_DOC_ID = "local_names"  # source_id of the units read from --local-names


@dataclass(frozen=True)
class NameUnit(Passage):
    """One local name to normalize, with the passage it was found in (``text`` is that
    passage, empty for a name from a file). Its key is the passage key and the name, so two
    names of one passage are two units."""

    local_name: str = ""

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.index}:{self.local_name}"


def local_names_in(text: str) -> list[str]:
    """The local lab-test names of ``text``, in order of first appearance (NFKC spelling).

    >>> local_names_in("入院時AST 93U/L，ALT 94U/L，ＣＲＰ３．９７ｍｇ／ｄＬ，白血球数7950/μL，体温38.5℃，AST 11U/L")
    ['AST', 'ALT', 'CRP', '白血球数']
    >>> local_names_in("T-Bil 0.7mg/dL、γ-GTP 481U/L、検査ではアルブミン 3.2 g/dL、SBP 120 mmHg")
    ['T-Bil', 'γ-GTP', 'アルブミン']
    """
    return list(dict.fromkeys(m.group("name").rstrip("-./・") for m in LOCAL_NAME.finditer(nfkc(text))))


def units_from_passages(
    passages: Iterable[Passage], max_names: int | None = None
) -> tuple[list[NameUnit], dict]:
    """One unit per distinct local name of ``passages`` (first occurrence), at most
    ``max_names``; and counts for the manifest (no names)."""
    units: dict[str, NameUnit] = {}
    found = 0
    for p in passages:
        for name in local_names_in(p.text):
            found += 1
            if name not in units and (max_names is None or len(units) < max_names):
                units[name] = NameUnit(
                    p.doc_id, p.index, p.text, p.start, p.end, p.tokens, p.medical_density, p.signals, name
                )
    return list(units.values()), {"source": "passages", "occurrences": found, "local_names": len(units)}


def units_from_file(path: str, max_names: int | None = None) -> tuple[list[NameUnit], dict]:
    """One unit per distinct line of a ``--local-names`` file; and counts for the manifest."""
    if not os.path.isfile(path):
        raise UserError(f"--local-names {path}: no such file; give a text file with one local name per line")
    with open(path, "rb") as f:
        text, problems = decode_text_file(f.read(), "auto")
    if text is None or problems:
        raise UserError(f"--local-names {path}: not readable as UTF-8, CP932 or EUC-JP text")
    units: dict[str, NameUnit] = {}
    for line, raw in enumerate(text.splitlines(), start=1):
        name = nfkc(raw).strip()
        if name and not name.startswith("#") and name not in units:
            if max_names is not None and len(units) >= max_names:
                break
            units[name] = NameUnit(FILE_DOC_ID, line, "", 0, 0, 0, 0.0, {}, name)
    if not units:
        raise UserError(f"--local-names {path}: no names; give one local name per line")
    return list(units.values()), {"source": "file", "local_names": len(units)}
