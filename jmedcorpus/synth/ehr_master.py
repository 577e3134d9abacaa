"""EHR lab-test name normalization (template ``ehr_lab_name_v1``): the user's standard-name
master, the candidates shown to the model, and the check of its answer against the master.

Hospitals name their lab tests in their own way (``T-Bil``, ``総ビリ``, ``γGTP``); exchanging or
pooling data needs the standard name and code of a master such as JLAC10 (the Japanese
laboratory code: 17 characters, analyte 5 + identification 4 + specimen 3 + method 3 + result
type 2). No master can be shipped with jmedcorpus: the user gives one as a CSV file (``--master``).

**Master file**: UTF-8 (or CP932/EUC-JP, detected as for build inputs), one entry per row:
``code,standard name`` (further columns are ignored, so an export with more columns works); a
first row whose first cell is ``code``/``コード``/``JLAC10`` is a header; blank rows and rows
starting with ``#`` are skipped. Codes are compared without spaces and hyphens, upper-case
(``3B035-0000-023-271-01`` = ``3B0350000023271 01``); a code may appear once. Names are
compared NFKC, spaces removed, case-folded; one name may have several codes (the same analyte
on another specimen or method), so the check is on the pair.

**Candidates**: the prompt shows the ``n`` entries (default 20) whose names are closest to the
local name in characters (Dice coefficient of character bigrams over letters, digits, kana and
kanji, +0.5 when one contains the other; ties in master order; then, when fewer than ``n``
share a bigram, the next entries in master order), or the whole master when it has at most ``n``
entries. A local name sharing no characters with its standard name (``T-Bil`` →
``総ビリルビン``) finds it only in a small master or when the master's name carries the
abbreviation (``総ビリルビン(T-Bil)``).

**Check** (``synth_not_in_master``, ``synth_master_mismatch``): the answer's code must be a code
of the master, its name a name of the master, and the two one entry. "No match" (both empty,
as the prompt allows) is ``synth_not_in_master`` too: no item for that local name. Details hold
no text (the local name may come from a clinical note).
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from dataclasses import dataclass

from jmedcorpus.constants import (
    SYNTH_MASTER_MISMATCH,
    SYNTH_MISSING_FIELD,
    SYNTH_NOT_IN_MASTER,
    SYNTH_UNPARSEABLE,
)
from jmedcorpus.errors import UserError
from jmedcorpus.io.encodings import decode_text_file
from jmedcorpus.synth.items import EhrItem, Rejection, nfkc
from jmedcorpus.synth.parsing import json_of

DEFAULT_CANDIDATES = 20
MASTER_REASONS = (SYNTH_NOT_IN_MASTER, SYNTH_MASTER_MISMATCH)  # the check's (parsing's are parsing's)
_HEADER_CELLS = {"code", "コード", "jlac10", "jlac10コード", "jlac10_code"}
_CODE_KEYS = ("code", "コード", "jlac10", "jlac10コード", "jlac10_code", "standard_code")
_NAME_KEYS = ("standard_name", "標準名称", "標準名", "name", "名称")
_TEXT_FIELD = re.compile(
    r"^[\s*#【\[]*(?P<key>JLAC10コード|JLAC10|コード|code|標準名称|標準名|standard.name)"
    r"[\s*】\]]*[:：]\s*(?P<value>.*?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_NOT_WORD = re.compile(r"[^0-9a-zα-ω\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class MasterEntry:
    code: str  # as the master writes it
    name: str


def code_key(code: str) -> str:
    """A code as compared: no spaces or hyphens, upper-case.

    >>> code_key(" 3b035-0000-023-271-01 ")
    '3B035000002327101'
    """
    return re.sub(r"[\s\-]", "", nfkc(code)).upper()


def name_key(name: str) -> str:
    """A name as compared: NFKC, no spaces, case-folded.

    >>> name_key("ＡＳＴ （ＧＯＴ）") == name_key("ast(got)")
    True
    """
    return re.sub(r"\s+", "", nfkc(name)).lower()


def _bigrams(text: str) -> list[str]:
    s = _NOT_WORD.sub("", nfkc(text).lower())
    return [s] if len(s) == 1 else [s[i : i + 2] for i in range(len(s) - 1)]


class StandardMaster:
    """A standard-name master: ``entries`` in file order, lookups by code and name."""

    def __init__(self, entries: list[MasterEntry], path: str = "<memory>") -> None:
        if not entries:
            raise UserError(f"--master {path}: no entries; give a CSV of code,standard name rows")
        self.entries, self.path = entries, path
        self.by_code = {code_key(e.code): e for e in entries}
        self.codes_of_name: dict[str, set[str]] = {}
        for e in entries:
            self.codes_of_name.setdefault(name_key(e.name), set()).add(code_key(e.code))
        # bigram -> entry indices: the candidates of a name are scored only among entries that
        # share a bigram with it, not against the whole master
        self._grams = [set(_bigrams(e.name)) for e in entries]
        self._postings: dict[str, list[int]] = {}
        for i, grams in enumerate(self._grams):
            for g in grams:
                self._postings.setdefault(g, []).append(i)

    @classmethod
    def from_csv(cls, path: str) -> StandardMaster:
        """Read a master file (format in the module docstring); problems are one-line
        :class:`UserError` naming the line, never its text."""
        if not os.path.isfile(path):
            raise UserError(f"--master {path}: no such file; give a CSV of code,standard name rows")
        with open(path, "rb") as f:
            text, problems = decode_text_file(f.read(), "auto")
        if text is None or problems:
            why = problems[0].detail.split(";")[0] if problems else "undecodable"
            raise UserError(f"--master {path}: {why}; save it as UTF-8")
        entries, seen = [], {}
        for line, row in enumerate(csv.reader(text.splitlines()), start=1):
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if not entries and not seen and nfkc(cells[0]).lower() in _HEADER_CELLS:
                continue
            if len(cells) < 2 or not cells[0] or not cells[1]:
                raise UserError(f"--master {path}: line {line}: expected code,standard name (both non-empty)")
            key = code_key(cells[0])
            if key in seen:
                raise UserError(f"--master {path}: line {line}: the code of line {seen[key]} again")
            seen[key] = line
            entries.append(MasterEntry(cells[0], cells[1]))
        return cls(entries, path)

    def __len__(self) -> int:
        return len(self.entries)

    def candidates(self, local_name: str, n: int = DEFAULT_CANDIDATES) -> list[MasterEntry]:
        """The ``n`` entries closest to ``local_name`` (the whole master when it is that small)."""
        if len(self.entries) <= n:
            return list(self.entries)
        grams = set(_bigrams(local_name))
        shared = Counter(i for g in grams for i in self._postings.get(g, ()))
        key = _NOT_WORD.sub("", nfkc(local_name).lower())

        def score(i: int) -> float:
            other = _NOT_WORD.sub("", nfkc(self.entries[i].name).lower())
            dice = 2 * shared[i] / (len(grams) + len(self._grams[i]))
            return dice + (0.5 if key and other and (key in other or other in key) else 0.0)

        ranked = sorted(shared, key=lambda i: (-score(i), i))[:n]
        chosen = set(ranked)  # too few share a bigram: the rest in master order, so n are shown
        ranked += [i for i in range(len(self.entries)) if i not in chosen][: n - len(ranked)]
        return [self.entries[i] for i in ranked]

    def check(self, local_name: str, code: str, name: str) -> EhrItem | Rejection:
        """The item, with code and name as the master writes them, or why not."""
        if not code.strip() and not name.strip():
            return Rejection(SYNTH_NOT_IN_MASTER, "no entry chosen")
        entry = self.by_code.get(code_key(code))
        codes = self.codes_of_name.get(name_key(name))
        if entry is None or codes is None:
            missing = [f for f, absent in (("code", entry is None), ("name", codes is None)) if absent]
            return Rejection(SYNTH_NOT_IN_MASTER, f"{' and '.join(missing)} not in the master")
        if code_key(code) not in codes:
            return Rejection(SYNTH_MASTER_MISMATCH, "code and name of different entries")
        return EhrItem(local_name, entry.code, entry.name)


def format_candidates(entries: list[MasterEntry]) -> str:
    """The candidates as the prompt lists them, one ``code,name`` per line."""
    return "\n".join(f"{e.code},{e.name}" for e in entries)


def parse_ehr(raw: str) -> tuple[str, str] | Rejection:
    """``(code, standard name)`` from a model output: a JSON object (``code``/``コード``,
    ``standard_name``/``標準名称``) or lines ``コード: …`` / ``標準名称: …``.

    >>> parse_ehr('```json\\n{"コード": "3B035000002327101", "標準名称": "AST(GOT)"}\\n```')
    ('3B035000002327101', 'AST(GOT)')
    >>> parse_ehr("標準名称：AST(GOT)\\nJLAC10コード：3B035000002327101")
    ('3B035000002327101', 'AST(GOT)')
    >>> parse_ehr('{"code": "3B035000002327101"}'), parse_ehr("わかりません")
    (Rejection(reason='synth_missing_field', detail='standard_name'), Rejection(reason='synth_unparseable', detail='no JSON object and no code/name lines'))
    """
    obj = json_of(raw or "")
    if isinstance(obj, Rejection):
        return obj
    if obj is None:
        found = {}
        for m in _TEXT_FIELD.finditer(nfkc(raw)):
            field = "name" if m.group("key").lower().startswith(("標準", "standard")) else "code"
            found.setdefault(field, m.group("value"))
        if not found:
            return Rejection(SYNTH_UNPARSEABLE, "no JSON object and no code/name lines")
        code, name = found.get("code"), found.get("name")
    else:
        by_key = {nfkc(str(k)).strip().lower(): v for k, v in obj.items()}
        code = next((by_key[k] for k in _CODE_KEYS if k in by_key), None)
        name = next((by_key[k] for k in _NAME_KEYS if k in by_key), None)
    missing = [f for f, v in (("code", code), ("standard_name", name)) if not isinstance(v, str)]
    if missing:
        return Rejection(SYNTH_MISSING_FIELD, ", ".join(missing))
    return code.strip(), name.strip()
