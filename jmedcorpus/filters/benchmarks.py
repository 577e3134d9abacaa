"""Benchmark files (JSONL, CSV, Parquet) → question items for decontamination.

Layouts recognised, per record (the first that applies; ``text_field``/``options_field`` force one):

- one text field holding the question with its options, one per line (``a. Gaucher病``): the
  jmedcorpus/IgakuQA-converted layout ``{"id", "text"}``; fields tried: ``text``, ``question``,
  ``problem_text``, ``problem``, ``stem``, ``input``, ``query``, ``prompt``;
- a question field as above plus options in ``choices`` / ``options`` (a list, a
  ``{label: text}`` mapping or a string): IgakuQA's ``problem_text`` + ``choices``, JMED-LLM's
  ``question`` + ``options``;
- a question field plus one column per option: ``A``-``H`` / ``a``-``h`` / ``option_a`` /
  ``choice_a`` … (JMMLU-style CSV with a header row).

The item id is the first of ``id``, ``qid``, ``question_id``, ``problem_id``, ``uid``, ``index``
(or ``id_field``), else the line (JSONL, CSV) or row (Parquet) number; it is reported as
``<file name>:<id>``. A record without a usable question is a ``ValueError`` naming the file
and line, never its text.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from jmedcorpus.text.exam import OPTION_LINE

TEXT_FIELDS = ("text", "question", "problem_text", "problem", "stem", "input", "query", "prompt")
OPTION_FIELDS = ("choices", "options")
ID_FIELDS = ("id", "qid", "question_id", "problem_id", "uid", "index")
_LETTERS = "abcdefgh"
_OPTION_COLUMNS = tuple(
    tuple(f"{p}{c}" for c in _LETTERS) + tuple(f"{p}{c.upper()}" for c in _LETTERS)
    for p in ("", "option_", "choice_", "option", "choice")
)
_OPTION_LINES = re.compile(OPTION_LINE.pattern, OPTION_LINE.flags | re.MULTILINE)


@dataclass(frozen=True)
class BenchmarkItem:
    """One benchmark question: ``text`` as published (stem and labelled options), its ``stem``
    and its ``options`` without labels (empty when none were found)."""

    id: str
    text: str
    stem: str
    options: tuple[str, ...] = ()


def split_options(text: str) -> tuple[str, tuple[str, ...]]:
    """(stem, options without their labels) of a question with one option a line.

    >>> split_options("高アンモニア血症をきたす疾患はどれか。\\na. Gaucher病\\nb. von Gierke病")
    ('高アンモニア血症をきたす疾患はどれか。', ('Gaucher病', 'von Gierke病'))
    """
    stem = split_stem(text)
    options = []
    for line in text[len(stem) :].split("\n") if stem != text else ():
        m = OPTION_LINE.match(line)
        option = (m.group("text") if m else line).strip()
        if option:
            options.append(option)
    return stem, tuple(options)


def split_stem(text: str) -> str:
    """The question before its first option line (all of it when no option line is found).

    >>> split_stem("高アンモニア血症をきたす疾患はどれか。\\na. Gaucher病\\nb. von Gierke病")
    '高アンモニア血症をきたす疾患はどれか。'
    """
    m = _OPTION_LINES.search(text)
    return text[: m.start()].strip() if m and m.start() > 0 else text


def _options(value) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    return None


def record_item(
    record, where: str, name: str, *, text_field: str | None, options_field: str | None, id_field: str | None
) -> BenchmarkItem:
    """One record → item; ``where`` (``file:line``) names it in errors."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: not an object/row")  # noqa: TRY004 - bad data
    fields = (text_field,) if text_field else TEXT_FIELDS
    key = next((f for f in fields if isinstance(record.get(f), str) and record[f].strip()), None)
    if key is None:
        looked = ", ".join(fields)
        raise ValueError(f"{where}: no usable question field (looked for {looked}); set text_field")
    question = record[key].strip()
    options = None
    for f in (options_field,) if options_field else OPTION_FIELDS:
        if record.get(f) is not None:
            options = _options(record[f])
            if options is None:
                raise ValueError(f"{where}: field {f!r} is not a list, mapping or string of options")
            break
    if options is None and not options_field:
        for cols in _OPTION_COLUMNS:
            found = [str(record[c]) for c in cols if record.get(c) not in (None, "")]
            if found:
                options = found
                break
    ident = next(
        (record[f] for f in ((id_field,) if id_field else ID_FIELDS) if record.get(f) is not None), None
    )
    ident = str(ident) if ident is not None else where.rsplit(":", 1)[1]
    if options:
        stripped = (OPTION_LINE.match(o) for o in options)
        labelless = tuple(
            s for s in ((m.group("text") if m else o).strip() for m, o in zip(stripped, options)) if s
        )
        return BenchmarkItem(f"{name}:{ident}", "\n".join((question, *options)), question, labelless)
    return BenchmarkItem(f"{name}:{ident}", question, *split_options(question))


def _records(path: str) -> Iterator[tuple[int, object]]:
    """(line or row number, record) of a JSONL, CSV or Parquet file (chosen by extension)."""
    lower = path.lower()
    if lower.endswith(".parquet"):
        import pyarrow.parquet as pq

        row = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                row += 1
                yield row, record
    elif lower.endswith((".csv", ".tsv")):
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if lower.endswith(".tsv") else ",")
            for record in reader:
                yield reader.line_num, record
    elif lower.endswith((".jsonl", ".json", ".ndjson")):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield lineno, json.loads(line)
                except ValueError:
                    raise ValueError(f"{path}:{lineno}: not a JSON object") from None
    else:
        raise ValueError(f"{path}: unknown benchmark format; use .jsonl, .csv, .tsv or .parquet")


def load_benchmark(
    path: str, *, text_field: str | None = None, options_field: str | None = None, id_field: str | None = None
) -> list[BenchmarkItem]:
    """Every question of one benchmark file (see the module docstring for the layouts)."""
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such benchmark file")
    name = os.path.basename(path)
    items = [
        record_item(
            record,
            f"{path}:{n}",
            name,
            text_field=text_field,
            options_field=options_field,
            id_field=id_field,
        )
        for n, record in _records(path)
    ]
    if not items:
        raise ValueError(f"{path}: no benchmark items")
    return items
