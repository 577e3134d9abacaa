"""Corpus statistics: collected during the build and recomputable from an output folder.

The build computes a *partial* per work unit inside its publish task, from the unit's final kept
table and its removed records (the rows it writes anyway: no second pass over the data), the
driver merges the partials and :func:`finalize` adds the manifest's step funnel and the recipe's
thresholds; the result is ``OUT/stats/stats.json``. :func:`recompute` builds the same partials
from ``OUT/data`` and ``OUT/removed`` (older builds, or to check): partials hold only integer
counts, histograms, minima and maxima, so merging is exact and order-free and the two agree
(tested).

What is measured, for kept and for removed documents:

- counts of documents, characters and MeCab tokens per step (a removed document's characters and
  tokens are those measured before it was dropped, from its ``signals``);
- a histogram of every numeric signal column, binned by its kind (:func:`kind_of`: what the
  step declares in ``signal_kinds``, else a rule on the name): 50 linear bins on [0, 1] for
  ratios and scores; 8 bins per decade from 1 to 10^7 for counts; integer bins 0-49 for sparse
  counts (redactions: 0 on most documents), with the share of documents that have any; plus three measured here
  from the text: ``sentences`` (:func:`~jmedcorpus.text.sentences.sentence_count`),
  ``kanji_ratio`` and ``ascii_ratio`` (letters);
- sources, and document types from the text (:func:`document_type`);
- near-duplicate cluster sizes (``minhash_dedup``'s ``cluster`` and ``cluster_size``);
- top nouns and medical terms by MeCab part of speech (UniDic ``名詞``, not numerals), on a
  sample: documents whose ``blake2b(id)`` is divisible by the recipe's
  ``output.stats_term_sample`` (default 16), first :data:`TERM_CHARS` characters (POS tagging
  runs ~2 MB/s; the sample keeps it a small share of the build).

No document text is stored: terms are corpus-wide counts of words.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter

import numpy as np
import pyarrow as pa

STATS_VERSION = 2  # 2: bins by declared signal kind (medical_density as a ratio, pii_* as sparse counts)
TERM_CHARS = 1000
TOP_TERMS = 60
RATIO_EDGES = np.linspace(0.0, 1.0, 51)
COUNT_EDGES = np.concatenate([[0.0], np.logspace(0, 7, 57)])
SPARSE_EDGES = np.arange(0.0, 51.0)  # 0, 1, ..., 49 and the last bin for 49 and more
_NOT_SIGNALS = {"id", "text", "source", "language", "step", "reason", "detail", "duplicate_of", "cluster"}
_LINEAR = re.compile(r"(ratio|frac|score|gram|grams|jaccard|repetition|fraction)$")
_GROUPS = (
    ("length", ("chars", "mecab_tokens", "non_space_chars", "sentences", "sentence_length", "changed_chars")),
    ("language", ("language",)),
    ("script", ("hiragana", "katakana", "kanji", "ascii", "japanese", "symbol", "digit")),
    ("repetition", ("repetition", "gopher", "dup")),
    ("dedup", ("jaccard", "cluster")),
)
_HIRAGANA = re.compile(r"[\u3041-\u309f]+")
_OPTION = re.compile(r"^\s*[a-eａ-ｅ][.．)）]\s*\S", re.MULTILINE)
_CASE = re.compile(r"症例|患者|[0-9０-９]+\s*(?:歳|才)|主訴")
_PAPER = re.compile(
    r"^\s*(?:【?(?:緒言|はじめに|背景|目的|方法|対象と方法|結果|考察|結語|結論|参考文献|文献)】?|Abstract)\s*$",
    re.MULTILINE,
)


@functools.cache
def _declared() -> dict[str, str]:
    from jmedcorpus.registry import declared_signal_kinds

    return declared_signal_kinds()


def kind_of(name: str) -> str:
    """``ratio``, ``score``, ``count`` or ``sparse_count``: as the writing step declares it, else
    ``ratio`` for names ending in ratio/frac/score/gram(s)/jaccard/repetition/fraction.

    >>> kind_of("medical_density"), kind_of("pii_name"), kind_of("hiragana_ratio"), kind_of("chars")
    ('ratio', 'sparse_count', 'ratio', 'count')
    """
    return _declared().get(name) or ("ratio" if _LINEAR.search(name) else "count")


def scale_of(name: str) -> str:
    return "log" if kind_of(name) == "count" else "linear"


def edges_of(name: str) -> np.ndarray:
    kind = kind_of(name)
    return COUNT_EDGES if kind == "count" else SPARSE_EDGES if kind == "sparse_count" else RATIO_EDGES


def group_of(name: str) -> str:
    for group, words in _GROUPS:
        if any(w in name for w in words):
            return group
    return "quality"


def document_type(text: str) -> str:
    """``exam_question`` (4+ option lines a-e), ``paper`` (2+ section headings such as 方法 and
    考察), ``case_report`` (症例/患者/age/主訴 in the first 300 characters), else ``other``.

    >>> document_type("高尿酸血症をきたさないのはどれか。\\na. A\\nb. B\\nc. C\\nd. D\\ne. E")
    'exam_question'
    >>> document_type("症例は70歳，男性．主訴は咳嗽．"), document_type("Background: ...")
    ('case_report', 'other')
    """
    head = text[:4000]
    if len(_OPTION.findall(head)) >= 4:
        return "exam_question"
    if len(_PAPER.findall(text)) >= 2:
        return "paper"
    if _CASE.search(text[:300]):
        return "case_report"
    return "other"


def in_term_sample(doc_id: str, modulus: int) -> bool:
    digest = hashlib.blake2b(str(doc_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % modulus == 0


def _nouns(text: str) -> list[str]:
    """Content nouns: UniDic 名詞 but not numerals, 2+ characters, not hiragana-only (formal nouns
    such as こと, ため) and not ASCII. POS from the tagger that prints left context ids (the
    personal_info step's), a fifth of the full-feature tagger's output to parse."""
    from jmedcorpus.pii.names import tokens_with_pos

    out = []
    for _, _, s, pos in tokens_with_pos(text[:TERM_CHARS]):
        if not pos.startswith("名詞") or pos.startswith("名詞-数詞"):
            continue
        if len(s) >= 2 and not s.isascii() and not _HIRAGANA.fullmatch(s):
            out.append(s)
    return out


def empty_partial() -> dict:
    return {
        "kept": {"documents": 0, "chars": 0, "mecab_tokens": 0},
        "removed_steps": {},
        "hist": {},
        "sources": {"kept": {}, "removed": {}},
        "types": {"kept": {}, "removed": {}},
        "clusters": {},
        "terms": {"documents": 0, "nouns": {}, "medical": {}},
        "redactions": {},
    }


_TEXT_SIGNALS = ("sentences", "kanji_ratio", "ascii_ratio")


def _text_signals(text: str) -> dict:
    """The signals measured here from the text (:data:`_TEXT_SIGNALS`)."""
    from jmedcorpus.text.charclass import ascii_letter_ratio, kanji_ratio
    from jmedcorpus.text.sentences import sentence_count

    return {
        "sentences": sentence_count(text),
        "kanji_ratio": kanji_ratio(text),
        "ascii_ratio": ascii_letter_ratio(text),
    }


def _add_values(part: dict, side: str, name: str, values: list) -> None:
    """Histogram ``values`` of one signal at once (numpy), with the running min and max."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    if not len(arr):
        return
    edges = edges_of(name)
    h = part["hist"].setdefault(
        name, {"kept": [0] * (len(edges) - 1), "removed": [0] * (len(edges) - 1), "min": None, "max": None}
    )
    bins = np.clip(np.searchsorted(edges, arr, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(bins, minlength=len(edges) - 1)
    h[side] = [a + int(b) for a, b in zip(h[side], counts)]
    lo, hi = float(arr.min()), float(arr.max())
    h["min"] = lo if h["min"] is None else min(h["min"], lo)
    h["max"] = hi if h["max"] is None else max(h["max"], hi)


def _add_document(
    part: dict, side: str, doc_id, text: str, source, signals: dict, values: dict, term_sample: int = 0
) -> None:
    """Count one document; its numeric signals go to ``values`` (histogrammed per batch)."""
    text = text or ""
    for name, value in {**signals, **_text_signals(text)}.items():
        if name not in _NOT_SIGNALS and isinstance(value, (int, float)) and not isinstance(value, bool):
            values.setdefault(name, []).append(value)
    src = str(source) if source is not None else "(none)"
    part["sources"][side][src] = part["sources"][side].get(src, 0) + 1
    kind = document_type(text)
    part["types"][side][kind] = part["types"][side].get(kind, 0) + 1
    if term_sample and in_term_sample(doc_id, term_sample):
        _add_terms(part, text)


def _add_terms(part: dict, text: str) -> None:
    """Count the nouns and medical terms of one sampled document."""
    from jmedcorpus.text.medical import is_medical_token

    terms = part["terms"]
    terms["documents"] += 1
    for noun in _nouns(text):
        terms["nouns"][noun] = terms["nouns"].get(noun, 0) + 1
        if is_medical_token(noun):
            terms["medical"][noun] = terms["medical"].get(noun, 0) + 1


def add_kept(part: dict, table: pa.Table, term_sample: int) -> None:
    """Count the kept documents of ``table`` (``id``, ``text``, ``source``, signal columns);
    nouns of those whose id hash is divisible by ``term_sample``.

    Column by column: the signal columns are histogrammed straight from Arrow, and only what is
    measured from the text runs per document (a row dictionary of 40 signals per document made
    it 0.19 s instead of 0.14 s on 5 MB, nouns aside). Counts the same as :func:`_add_document`
    per row (a test compares the two)."""
    if not table.num_rows:
        return
    import pyarrow.compute as pc

    kept = part["kept"]
    texts = table.column("text").to_pylist()
    kept["documents"] += table.num_rows
    lengths = pc.utf8_length(pc.fill_null(table.column("text"), ""))
    chars = (
        pc.if_else(_truthy(table, "chars"), table.column("chars"), lengths)
        if "chars" in table.column_names
        else lengths
    )
    kept["chars"] += int(pc.sum(chars).as_py() or 0)
    if "mecab_tokens" in table.column_names:
        kept["mecab_tokens"] += int(pc.sum(table.column("mecab_tokens")).as_py() or 0)
    measured = {name: [] for name in _TEXT_SIGNALS}
    for text in texts:
        for name, value in _text_signals(text or "").items():
            measured[name].append(value)
    for name in table.column_names:
        if name in _NOT_SIGNALS or name in measured:  # a text signal replaces a column of its name
            continue
        column = table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            continue
        if name.startswith("pii_"):  # personal_info's per-type placeholder counts (pii_name, ...)
            total = int(pc.sum(column).as_py() or 0)
            if total:
                part["redactions"][name[4:]] = part["redactions"].get(name[4:], 0) + total
        values = column.drop_null().to_numpy()
        if len(values):
            _add_values(part, "kept", name, values)
    for name, values in measured.items():
        _add_values(part, "kept", name, values)
    sources = part["sources"]["kept"]
    for src, n in Counter(table.column("source").to_pylist()).items():
        key = str(src) if src is not None else "(none)"
        sources[key] = sources.get(key, 0) + n
    types = part["types"]["kept"]
    for kind, n in Counter(document_type(text or "") for text in texts).items():
        types[kind] = types.get(kind, 0) + n
    if term_sample:
        for doc_id, text in zip(table.column("id").to_pylist(), texts):
            if in_term_sample(doc_id, term_sample):
                _add_terms(part, text or "")


def _truthy(table: pa.Table, name: str):
    """Rows where ``name`` is neither null nor 0 (``row.get(name) or fallback``)."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.not_equal(table.column(name), 0), False)


def add_removed(part: dict, table: pa.Table) -> None:
    """Count removed records (``OUT/removed`` schema: step, reason, signals JSON, cluster)."""
    for batch in table.to_batches(max_chunksize=4096):
        values: dict[str, list] = {}
        for row in batch.to_pylist():
            signals = json.loads(row["signals"] or "{}")
            step = part["removed_steps"].setdefault(
                row["step"], {"documents": 0, "chars": 0, "mecab_tokens": 0, "reasons": {}}
            )
            step["documents"] += 1
            step["chars"] += int(signals.get("chars") or len(row["text"] or ""))
            step["mecab_tokens"] += int(signals.get("mecab_tokens") or 0)
            step["reasons"][row["reason"]] = step["reasons"].get(row["reason"], 0) + 1
            if row.get("cluster") is not None and "cluster_size" in signals:
                part["clusters"][str(row["cluster"])] = int(signals["cluster_size"])
            _add_document(part, "removed", row["id"], row["text"], row.get("source"), signals, values)
        for name, vals in values.items():
            _add_values(part, "removed", name, vals)


def merge(parts) -> dict:
    """One partial from many (order-free: sums, min, max)."""
    out = empty_partial()
    for p in parts:
        for k in ("documents", "chars", "mecab_tokens"):
            out["kept"][k] += p["kept"][k]
        for step, s in p["removed_steps"].items():
            o = out["removed_steps"].setdefault(
                step, {"documents": 0, "chars": 0, "mecab_tokens": 0, "reasons": {}}
            )
            for k in ("documents", "chars", "mecab_tokens"):
                o[k] += s[k]
            o["reasons"] = dict(Counter(o["reasons"]) + Counter(s["reasons"]))
        for name, h in p["hist"].items():
            o = out["hist"].get(name)
            if o is None:
                out["hist"][name] = {k: (list(v) if isinstance(v, list) else v) for k, v in h.items()}
                continue
            for side in ("kept", "removed"):
                o[side] = [a + b for a, b in zip(o[side], h[side])]
            o["min"] = (
                min(x for x in (o["min"], h["min"]) if x is not None) if h["min"] is not None else o["min"]
            )
            o["max"] = (
                max(x for x in (o["max"], h["max"]) if x is not None) if h["max"] is not None else o["max"]
            )
        for key in ("sources", "types"):
            for side in ("kept", "removed"):
                out[key][side] = dict(Counter(out[key][side]) + Counter(p[key][side]))
        out["clusters"].update(p["clusters"])
        out["redactions"] = dict(Counter(out["redactions"]) + Counter(p.get("redactions", {})))
        out["terms"]["documents"] += p["terms"]["documents"]
        for k in ("nouns", "medical"):
            out["terms"][k] = dict(Counter(out["terms"][k]) + Counter(p["terms"][k]))
    return out


def term_sample_of(manifest: dict) -> int:
    """The recipe's ``output.stats_term_sample`` (the default for builds made before it existed)."""
    return int(manifest.get("recipe", {}).get("output", {}).get("stats_term_sample", 16))


def _quantiles(counts: list[int], edges: np.ndarray, integers: bool = False) -> dict | None:
    """p10/p50/p90 from a histogram: the upper edge of the quantile's bin (an upper bound), or,
    for integer bins ``[k, k + 1)``, ``k`` itself (exact)."""
    total = sum(counts)
    if not total:
        return None
    cum = np.cumsum(counts)
    out = {}
    for q in (10, 50, 90):
        i = int(np.searchsorted(cum, q / 100 * total))
        out[f"p{q}"] = float(edges[i] if integers else edges[i + 1])
    return out


def _top(counter: dict, n: int = TOP_TERMS) -> list:
    return [[k, v] for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def finalize(part: dict, manifest: dict) -> dict:
    """The stats of a build (schema ``stats_version`` 2) from the merged partial and the manifest."""
    from jmedcorpus.report.thresholds import thresholds_from_recipe

    thresholds = thresholds_from_recipe(manifest.get("recipe", {}))
    term_sample = term_sample_of(manifest)
    removed = part["removed_steps"]
    c = manifest.get("counts", {})
    funnel = []
    for s in manifest.get("steps", []):
        r = removed.get(s["name"], {"documents": 0, "chars": 0, "mecab_tokens": 0, "reasons": {}})
        funnel.append(
            {
                "step": s["name"],
                "use": s.get("use", s["name"]),
                "in": s["in"],
                "out": s["out"],
                "removed": s["removed"],
                "removed_chars": r["chars"],
                "removed_mecab_tokens": r["mecab_tokens"],
                "reasons": s.get("reasons", {}),
            }
        )
    signals = {}
    for name in sorted(part["hist"]):
        h = part["hist"][name]
        edges = edges_of(name)
        signals[name] = {
            "kind": kind_of(name),
            "scale": scale_of(name),
            "group": group_of(name),
            "edges": [round(float(e), 6) for e in edges],
            "kept": h["kept"],
            "removed": h["removed"],
            "count_kept": sum(h["kept"]),
            "count_removed": sum(h["removed"]),
            "min": h["min"],
            "max": h["max"],
            "quantiles_kept": _quantiles(h["kept"], edges, integers=kind_of(name) == "sparse_count"),
            "threshold": thresholds.get(name),
        }
    reasons = Counter()
    for s in funnel:
        reasons.update(s["reasons"])
    sizes = Counter(part["clusters"].values())
    return {
        "stats_version": STATS_VERSION,
        "corpus": {
            "name": manifest.get("recipe", {}).get("name"),
            "fingerprint": manifest.get("fingerprint"),
            "created_at": manifest.get("created_at"),
        },
        "counts": {
            "records_in": c.get("records_in"),
            "kept": part["kept"]["documents"],
            "removed": sum(r["documents"] for r in removed.values()),
            "quarantined": c.get("quarantined"),
            "kept_chars": part["kept"]["chars"],
            "kept_mecab_tokens": part["kept"]["mecab_tokens"],
            "removed_chars": sum(r["chars"] for r in removed.values()),
            "removed_mecab_tokens": sum(r["mecab_tokens"] for r in removed.values()),
        },
        "funnel": funnel,
        "reasons": dict(reasons.most_common()),
        "signals": signals,
        "sources": {k: dict(Counter(v).most_common()) for k, v in part["sources"].items()},
        "document_types": {k: dict(Counter(v).most_common()) for k, v in part["types"].items()},
        "redactions": dict(sorted(part["redactions"].items(), key=lambda kv: (-kv[1], kv[0]))),
        "near_duplicate_clusters": {
            "clusters": len(part["clusters"]),
            "removed": removed.get("minhash_dedup", {}).get("documents", 0),
            "sizes": {str(k): v for k, v in sorted(sizes.items())},
        },
        "terms": {
            "sample_rule": f"kept documents whose blake2b(id) % {term_sample} == 0, first {TERM_CHARS} characters",
            "sample_documents": part["terms"]["documents"],
            "nouns": _top(part["terms"]["nouns"]),
            "medical_terms": _top(part["terms"]["medical"]),
        },
    }
