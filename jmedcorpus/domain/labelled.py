"""Labelled JSONL for ``jmedcorpus train-domain``: one ``{"text": ..., "label": ...}`` object a
line. Unusable records are skipped and counted by reason, never printed (they may hold patient
text)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

#: accepted label values; anything else (true/false included) is skipped as ``bad_label``
LABELS = {1: 1, 0: 0, "1": 1, "0": 0, "medical": 1, "general": 0}


@dataclass
class Labelled:
    """Usable records in input order, the skipped ones by reason, and a SHA-256 of the input bytes."""

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    sha256: str = ""


def _label(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    return LABELS.get(value.strip().lower() if isinstance(value, str) else value)


def parse_record(line: bytes, text_field: str, label_field: str, group_field: str | None):
    """``(text, label, group)`` of one line, or the reason it is skipped (a string).

    >>> parse_record('{"text": "肺炎", "label": "medical", "t": "A"}'.encode(), "text", "label", "t")
    ('肺炎', 1, 'group:A')
    >>> parse_record(b'{"text": "x", "label": 2}', "text", "label", None), parse_record(b'[1]', "text", "label", None)
    ('bad_label', 'not_an_object')
    """
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return "invalid_utf8"
    except json.JSONDecodeError:
        return "invalid_json"
    if not isinstance(record, dict):
        return "not_an_object"
    text = record.get(text_field)
    if not isinstance(text, str) or not text.strip():
        return "missing_text"
    label = _label(record.get(label_field))
    if label is None:
        return "bad_label"
    if group_field is None:  # equal texts (a report published twice) stay on one side of the split
        return text, label, "text:" + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
    group = record.get(group_field)
    if isinstance(group, bool) or not isinstance(group, (str, int)):
        return "missing_group"
    return text, label, f"group:{group}"


def read_labelled(paths: list[str], text_field: str, label_field: str, group_field: str | None) -> Labelled:
    """Read every line of ``paths`` in order (blank lines ignored). ``OSError`` propagates."""
    out = Labelled()
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                digest.update(line)
                if not line.strip():
                    continue
                parsed = parse_record(line, text_field, label_field, group_field)
                if isinstance(parsed, str):
                    out.skipped[parsed] += 1
                    continue
                text, label, group = parsed
                out.texts.append(text)
                out.labels.append(label)
                out.groups.append(group)
    out.sha256 = digest.hexdigest()
    return out
