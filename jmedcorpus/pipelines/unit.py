"""The body of one Ray task: read a work unit, push each document through the per-document
steps, and write the unit's kept documents, removed documents, quarantine, and what each global
step collects (dedup hashes, MinHash signatures).

Documents go through the steps in batches of up to 64 (:data:`~jmedcorpus.text.recent.BATCH_DOCS`),
step by step: one step over the batch, then the next, so that each step's tables (MeCab's
dictionary, fastText's model) stay in the CPU cache for a whole batch; measured on a 2.8 MB unit,
6.8 s document by document against 4.1-4.7 s. Each step still sees one document at a time (a
filter's ``filter(doc)``, else its datatrove ``run`` on a one-document stream), so the step that
drops a document, or fails on it, is known exactly: a drop is recorded with the filter's reason,
and an exception in a step quarantines that document (reason ``step_error``, the step and
exception type as detail) instead of failing the whole unit. Kept, removed and quarantined rows
are written in input order.
Everything is written under ``unit_dir``; ``result.json`` is written last and marks the unit done.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result

from jmedcorpus import constants as C
from jmedcorpus.filters.quality.length import DocLengthFilter
from jmedcorpus.io.parquet import (
    QUARANTINE_SCHEMA,
    REMOVED_SCHEMA,
    atomic_write_json,
    atomic_write_table,
    kept_schema,
)
from jmedcorpus.io.plan import WorkUnit
from jmedcorpus.io.readers import Quarantined, ReaderConfig, UnitReader
from jmedcorpus.recipe import Recipe
from jmedcorpus.text.recent import BATCH_CHARS, BATCH_DOCS, forget_recent

RESULT_FILE = "result.json"


class _ReasonOnly:
    """An exclusion 'writer' that writes nothing: its presence makes datatrove's BaseFilter put
    the drop reason in ``doc.metadata["filter_reason"]``, where the unit task reads it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, doc, rank=0, **kwargs):
        pass


def step_names(recipe: Recipe) -> list[str]:
    """Unique step names for outputs: the registered name, suffixed ``_2``, ``_3`` on repeats."""
    seen: Counter = Counter()
    names = []
    for spec in recipe.steps:
        seen[spec.use] += 1
        names.append(spec.use if seen[spec.use] == 1 else f"{spec.use}_{seen[spec.use]}")
    return names


def signal_fields(steps) -> dict[str, str]:
    """Signal columns of the output, in step order."""
    fields: dict[str, str] = {}
    for step in steps:
        fields.update(getattr(step, "signal_fields", {}))
    return fields


def _quarantine_row(q: Quarantined) -> dict:
    return {
        "file": q.file,
        "line": q.line,
        "offset": q.offset,
        "error": q.error,
        "detail": q.detail,
        "raw": q.raw,
    }


# Documents that reach every lazy resource and code path of a unit task: the MeCab dictionary,
# the fastText model, name and word lists, the readers, the dedup collectors, the Parquet writer.
_WARM_UP_TEXTS = (
    (
        "2023年4月12日、45歳男性が発熱と咳嗽を主訴に受診した。CRP 5.2 mg/dLであった。\n"
        "胸部CTで右下葉に浸潤影を認め、肺炎と診断し抗菌薬を投与した。第7病日に解熱した。"
    ),
    "A 45-year-old man presented with fever and cough. Chest CT showed consolidation.",
)


def load_step_resources(recipe: Recipe) -> None:
    """Load in this process what unit tasks load lazily (dictionaries, models, benchmark
    indexes, modules), by running one small unit of built-in text through the recipe in a
    temporary directory.

    The ``processes`` engine calls this in the driver before forking, so that every task
    inherits the loaded resources: measured on 2 cores, a forked task ran a 256 KB unit in
    0.7-0.9 s without this and 0.4 s with it. A step that fails here is left to fail (and be
    reported per document) in the tasks."""
    import tempfile

    from jmedcorpus.io.plan import plan_units

    with tempfile.TemporaryDirectory(prefix="jmedcorpus-warm-up-") as tmp:
        path = os.path.join(tmp, "warm-up.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(
                json.dumps({recipe.input.id_field: f"warm-up-{i}", recipe.input.text_field: text}) + "\n"
                for i, text in enumerate(_WARM_UP_TEXTS)
            )
        try:
            for unit in plan_units([path], chunk_bytes=1 << 20):
                process_unit(unit, recipe, os.path.join(tmp, unit.key), 1)
        except Exception:  # noqa: BLE001, S110 - only a warm-up; the tasks report real failures
            pass


def process_unit(
    unit: WorkUnit, recipe: Recipe, unit_dir: str, n_buckets: int, reader_fields: dict | None = None
) -> dict:
    """Run the per-document steps over ``unit``; returns (and saves) the unit's counts.

    ``reader_fields`` are metadata columns the reader writes (JATS article fields); the build
    passes the same ones to every unit, so all units share one schema."""
    started = time.time()
    steps = recipe.build_steps()
    names = step_names(recipe)
    local = [(n, s) for n, s in zip(names, steps) if not getattr(s, "is_global", False)]
    # global steps see every surviving document here and write what their stages need
    collectors = {
        n: s.collector(unit_dir, n_buckets) for n, s in zip(names, steps) if getattr(s, "is_global", False)
    }
    fields = {**(reader_fields or {}), **signal_fields(steps)}
    for _, step in local:
        if isinstance(step, BaseFilter):
            step.exclusion_writer = _ReasonOnly()
    direct = {n for n, s in local if _filters_one_by_one(s)}
    counts = {n: {"in": 0, "out": 0, "reasons": Counter()} for n, _ in local}
    oversized = next(((n, s) for n, s in local if isinstance(s, DocLengthFilter)), None)
    kept: list[dict] = []
    removed: dict[str, list[dict]] = {n: [] for n, _ in local}
    reader = UnitReader(
        unit,
        ReaderConfig(
            recipe.input.text_field,
            recipe.input.id_field,
            recipe.input.source_field,
            encoding=recipe.input.encoding,
        ),
    )
    documents_read = chars_in = 0
    # quarantine rows with the input position of their record: step errors of a batch are found
    # after later records were read, and the rows are written in input order
    quarantined: list[tuple[int, dict]] = []

    def run_batch(batch: list[list]) -> None:
        """Each step over the batch's documents still in it, then the next step (step by step:
        see :mod:`jmedcorpus.text.recent`); entries are ``[doc, original text, position]``."""
        alive = batch
        for name, step in local:
            survivors = []
            count = counts[name]
            for entry in alive:
                doc = entry[0]
                count["in"] += 1
                reason = None
                try:
                    if name in direct:
                        keep, reason = get_filter_result(step.filter(doc))
                        out = [doc] if keep else []
                    else:
                        out = list(step.run(iter([doc]), unit.index, 1))
                except Exception as e:  # noqa: BLE001 - fail closed: quarantine the document, keep the run
                    raw = json.dumps(
                        {"id": doc.id, "text": entry[1], "source": doc.metadata.get(C.META_SOURCE)},
                        ensure_ascii=False,
                    )
                    error = Quarantined(
                        unit.display,
                        C.QUARANTINE_STEP_ERROR,
                        f"{name}: {type(e).__name__}",
                        raw=raw.encode("utf-8", "surrogatepass"),
                    )
                    quarantined.append((entry[2], _quarantine_row(error)))
                    count["errors"] = count.get("errors", 0) + 1
                    continue
                if len(out) != 1:
                    reason = reason or doc.metadata.pop("filter_reason", None) or f"{name}_unspecified"
                    count["reasons"][reason] += 1
                    removed[name].append(_removed_row(doc, name, reason, fields))
                    continue
                entry[0] = out[0]
                count["out"] += 1
                survivors.append(entry)
            alive = survivors
        for doc, _, _ in alive:
            row = len(kept)
            kept.append(_kept_row(doc, fields))
            data = doc.text.encode("utf-8", "surrogatepass")
            for collector in collectors.values():
                collector.add(row, doc, data)

    batch: list[list] = []
    batch_chars = 0
    for position, item in enumerate(reader):
        if isinstance(item, Quarantined):
            quarantined.append((position, _quarantine_row(item)))
            continue
        documents_read += 1
        chars_in += len(item.text)
        if oversized is not None and len(item.text) > 2 * oversized[1].max_chars:
            run_batch(batch)  # the documents before it first: removed rows stay in input order
            batch, batch_chars = [], 0
            if _drop_if_oversized(item, local, oversized, counts, removed, fields) is None:
                continue
        batch.append([item, item.text, position])
        batch_chars += len(item.text)
        if len(batch) >= BATCH_DOCS or batch_chars >= BATCH_CHARS:
            run_batch(batch)
            batch, batch_chars = [], 0
    if batch:
        run_batch(batch)
    forget_recent()  # the last batch's tokens: a worker keeps its process between tasks
    quarantine = [row for _, row in sorted(quarantined, key=lambda q: q[0])]

    os.makedirs(unit_dir, exist_ok=True)
    atomic_write_table(
        pa.Table.from_pylist(kept, schema=kept_schema(fields)), os.path.join(unit_dir, "kept.parquet")
    )
    for name, rows in removed.items():
        if rows:
            atomic_write_table(
                pa.Table.from_pylist(rows, schema=REMOVED_SCHEMA),
                os.path.join(unit_dir, f"removed-{name}.parquet"),
            )
    if quarantine:
        atomic_write_table(
            pa.Table.from_pylist(quarantine, schema=QUARANTINE_SCHEMA),
            os.path.join(unit_dir, "quarantine.parquet"),
        )
    global_outputs = {n: c.close() for n, c in collectors.items()}

    result = {
        "unit": unit.index,
        "lines": reader.lines,
        "documents_read": documents_read,
        "chars_in": chars_in,
        "quarantined": dict(Counter(q["error"] for q in quarantine)),
        # field names (never values) of the records without the text field: the build's hint
        "missing_text_keys": dict(reader.missing_text_keys.most_common(20)),
        "steps": {n: {**c, "reasons": dict(c["reasons"])} for n, c in counts.items()},
        "kept": len(kept),
        "kept_chars": sum(len(r["text"]) for r in kept),
        "kept_mecab_tokens": sum(r.get(C.META_MECAB_TOKENS) or 0 for r in kept),
        "global": global_outputs,
        "seconds": round(time.time() - started, 3),
    }
    atomic_write_json(result, os.path.join(unit_dir, RESULT_FILE))
    return result


def _filters_one_by_one(step) -> bool:
    """True for a filter whose decision is its ``filter(doc)`` alone: the task calls it directly.

    datatrove's ``BaseFilter.run`` around the same call (a generator, batching, timers, four
    statistics updates and per-document length statistics) cost as much as the 13 quality
    filters' own work together: 0.65 s of a 5.1 s profile of a 2 MB unit. A filter that overrides
    ``run`` or ``filter_batch`` keeps going through ``run``."""
    cls = type(step)
    return (
        isinstance(step, BaseFilter)
        and cls.run is BaseFilter.run
        and cls.filter_batch is BaseFilter.filter_batch
    )


def _drop_if_oversized(doc, local, oversized, counts, removed, fields) -> Document | None:
    """Apply ``doc_length``'s maximum first to a document over twice that many characters.

    A 50 MB one-line record took 262 s and 4.7 GB in normalization, redaction and MeCab before
    ``doc_length`` dropped it. Normalization never doubles a real text's length, so the raw
    text decides the same way; the steps before ``doc_length`` are counted as passed. Returns
    the document when ``doc_length`` would keep it (mostly whitespace), else None (recorded as
    removed by ``doc_length``)."""
    name, step = oversized
    decision = step.filter(doc)
    if decision is True:
        return doc
    for earlier, _ in local:
        counts[earlier]["in"] += 1
        if earlier == name:
            break
        counts[earlier]["out"] += 1
    reason = decision[1]
    counts[name]["reasons"][reason] += 1
    removed[name].append(_removed_row(doc, name, reason, fields))
    return None


def _kept_row(doc: Document, fields: dict[str, str]) -> dict:
    row = {"id": doc.id, "text": doc.text, "source": doc.metadata.get(C.META_SOURCE)}
    for key in fields:
        row[key] = doc.metadata.get(key)
    return row


def _removed_row(doc: Document, step: str, reason: str, fields: dict[str, str]) -> dict:
    signals = {k: doc.metadata[k] for k in fields if k in doc.metadata}
    return {
        "id": doc.id,
        "text": doc.text,
        "source": doc.metadata.get(C.META_SOURCE),
        "step": step,
        "reason": reason,
        "detail": None,
        "duplicate_of": None,
        "cluster": None,
        "signals": json.dumps(signals, ensure_ascii=False),
    }
