"""Benchmark decontamination accuracy and speed (the ``decontaminate`` step), seeded.

Benchmark: IgakuQA 2018-2021 (1,600 licensing-exam questions, stem + options a-e in ``text``);
2022 (400 questions) is held out. Documents are real case reports (MedTxt-CR) with one question
inserted between two lines at a random position:

- positives (an indexed question, one variant each): verbatim; width (ASCII → full-width,
  katakana → half-width); whitespace (spaces/newlines inserted at random, newlines removed);
  options reordered; two options dropped; stem only;
- controls: a held-out 2022 question (same template, different content), and reports alone.

Sweeps the unit (characters / MeCab tokens) and n, reports recall per variant and control
false-positive rate at each ``min_item_fraction``, then times the step with the chosen defaults.

    .venv/bin/python bench/decontam_accuracy.py [--per-variant 300] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import unicodedata

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from datatrove.data import Document

from jmedcorpus.filters import decontaminate as D
from jmedcorpus.filters.benchmarks import load_benchmark, split_stem
from jmedcorpus.text import benchmark_index as B

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
QUESTIONS = os.path.join(DATA, "igakuqa_2018_2022_ja.jsonl")
REPORTS = os.path.join(DATA, "case_reports.jsonl")
HELD_OUT = "116"  # 2022 exam
VARIANTS = ("verbatim", "width", "whitespace", "reordered", "dropped", "stem")
GROUPS = (*VARIANTS[:-1], "stem_long", "stem_short")
# (unit, n, min_part_ngrams)
CONFIGS = (
    [("char", n, 20) for n in (8, 10, 13, 16, 20)]
    + [("char", 13, m) for m in (5, 10, 15, 30)]
    + [("mecab", n, 20) for n in (5, 8, 10)]
)
FRACTIONS = (0.3, 0.4, 0.5, 0.6, 0.7)
STEM_CHARS = 30  # "stem_long": stems of at least this many characters (shorter ones are generic)


def _half_width_table() -> dict[str, str]:
    half = {}
    for cp in range(0xFF61, 0xFFA0):
        full = unicodedata.normalize("NFKC", chr(cp))
        if len(full) == 1:
            half.setdefault(full, chr(cp))
    for cp in range(0x30A0, 0x3100):  # voiced katakana: base + ﾞ/ﾟ
        base, *marks = unicodedata.normalize("NFD", chr(cp))
        if marks and base in half:
            half[chr(cp)] = half[base] + {"\u3099": "ﾞ", "\u309a": "ﾟ"}.get(marks[0], "")
    return half


_HALF = _half_width_table()


def width_variant(text: str) -> str:
    out = []
    for ch in text:
        if "!" <= ch <= "~":
            out.append(chr(ord(ch) + 0xFEE0))
        elif ch == " ":
            out.append("\u3000")
        else:
            out.append(_HALF.get(ch, ch))
    return "".join(out)


def whitespace_variant(text: str, rng: random.Random) -> str:
    out = []
    for ch in text.replace("\n", "" if rng.random() < 0.5 else " "):
        out.append(ch)
        r = rng.random()
        if r < 0.06:
            out.append(" ")
        elif r < 0.08:
            out.append("\n")
    return "".join(out)


def option_lines(text: str) -> tuple[str, list[str]]:
    stem = split_stem(text)
    return stem, [line for line in text[len(stem) :].split("\n") if line.strip()]


def make_variant(text: str, variant: str, rng: random.Random) -> str:
    stem, options = option_lines(text)
    if variant == "verbatim":
        return text
    if variant == "width":
        return width_variant(text)
    if variant == "whitespace":
        return whitespace_variant(text, rng)
    if variant == "reordered":
        bodies = [re.sub(r"^[a-h]\.\s*", "", o) for o in options]
        rng.shuffle(bodies)
        return "\n".join([stem] + [f"{'abcdefgh'[i]}. {b}" for i, b in enumerate(bodies)])
    if variant == "dropped":
        keep = sorted(rng.sample(range(len(options)), min(len(options), max(1, len(options) - 2))))
        return "\n".join([stem] + [options[i] for i in keep])
    if variant == "stem":
        return stem
    raise ValueError(variant)


def insert(report: str, question: str, rng: random.Random) -> str:
    lines = report.split("\n")
    at = rng.randint(0, len(lines))
    return "\n".join(lines[:at] + [question] + lines[at:])


def build_documents(per_variant: int, seed: int):
    rng = random.Random(seed)
    items = load_benchmark(QUESTIONS)
    indexed = [q for q in items if q.id.split("-")[2][:3] != HELD_OUT]
    held = [q for q in items if q.id.split("-")[2][:3] == HELD_OUT]
    with open(REPORTS, encoding="utf-8") as f:
        reports = [json.loads(line)["text"] for line in f if line.strip()]
    with open(QUESTIONS, encoding="utf-8") as f:  # as published: options labelled a.-e.
        raw = {json.loads(line)["id"]: json.loads(line)["text"] for line in f if line.strip()}
    name = os.path.basename(QUESTIONS)
    docs = []  # (group, text, expected item id or None)
    for variant in VARIANTS:
        for q in rng.sample(indexed, per_variant):
            text = make_variant(raw[q.id.split(":", 1)[1]], variant, rng)
            group = variant
            if variant == "stem":
                group = "stem_long" if len(B.normalize_for_match(q.stem)) >= STEM_CHARS else "stem_short"
            docs.append((group, insert(rng.choice(reports), text, rng), q.id))
    for q in held:
        docs.append(("control_heldout", insert(rng.choice(reports), raw[q.id[len(name) + 1 :]], rng), None))
    for r in reports:
        docs.append(("control_report", r, None))
    return indexed, held, docs, raw


def best_fractions(index: B.BenchmarkIndex, texts: list[str]) -> tuple[np.ndarray, list[str]]:
    best, ids = np.zeros(len(texts)), []
    for i, text in enumerate(texts):
        f = index.fractions(B.window_hashes(B.unit_hashes(text, index.unit), index.n))
        j = int(np.argmax(f))
        best[i] = f[j]
        ids.append(index.item_ids[index.entry_item[j]])
    return best, ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-variant", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    indexed, held, docs, raw = build_documents(args.per_variant, args.seed)
    groups = [g for g, _, _ in docs]
    texts = [t for _, t, _ in docs]
    expected = [e for _, _, e in docs]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    sweep = []
    for unit, n, msn in CONFIGS:
        t0 = time.perf_counter()
        index = B.BenchmarkIndex.build(indexed, n=n, unit=unit, min_part_ngrams=msn)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        best, ids = best_fractions(index, texts)
        match_s = time.perf_counter() - t0
        for frac in FRACTIONS:
            row = {"unit": unit, "n": n, "min_part_ngrams": msn, "min_item_fraction": frac}
            row["build_s"] = round(build_s, 3)
            row["s_per_mb"] = round(match_s / mb, 3)
            row["index_mb"] = round(index.nbytes / 1e6, 2)
            for g in dict.fromkeys(groups):
                sel = [i for i, gg in enumerate(groups) if gg == g]
                hit = [i for i in sel if best[i] >= frac]
                row[g] = round(len(hit) / len(sel), 4)
                if not g.startswith("control"):
                    row[g + "_right_item"] = round(sum(ids[i] == expected[i] for i in hit) / len(sel), 4)
            pos = [i for i, g in enumerate(groups) if not g.startswith("control")]
            row["recall_all"] = round(sum(best[i] >= frac for i in pos) / len(pos), 4)
            sweep.append(row)

    # the chosen defaults, through the step (document mode), timed per MB; index build timed cold
    D._cached_index.cache_clear()
    bench_file = os.path.join("/tmp", f"decontam_index_{os.getpid()}.jsonl")
    with open(bench_file, "w", encoding="utf-8") as f:
        for q in indexed:
            rid = q.id.split(":", 1)[1]
            f.write(json.dumps({"id": rid, "text": raw[rid]}, ensure_ascii=False) + "\n")
    t0 = time.perf_counter()
    step = D.BenchmarkDecontaminator(benchmarks=[bench_file])
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    removed, flagged = {}, []
    for g, text in zip(groups, texts):
        doc = Document(text=text, id="d")
        out = step.filter(doc)
        removed.setdefault(g, []).append(out is not True)
        if g == "control_heldout" and out is not True:
            flagged.append((text, doc.metadata[D.META_DECONTAM_ITEM]))
    step_s = time.perf_counter() - t0
    # a flagged held-out question the exam re-used: >= half of its own n-grams are in the matched item
    by_id = {q.id.split(":", 1)[1]: q for q in indexed}
    reused = 0
    for text, item in flagged:
        q_held = next(h for h in held if raw[h.id.split(":", 1)[1]] in text)
        own = np.unique(B.window_hashes(B.unit_hashes(q_held.text, "char"), step.n))
        theirs = np.unique(B.window_hashes(B.unit_hashes(by_id[item.split(":", 1)[1]].text, "char"), step.n))
        reused += bool(len(own)) and np.isin(own, theirs).mean() >= 0.5
    passage = D.BenchmarkDecontaminator(benchmarks=[bench_file], mode="passage")
    p_kept = p_exact = p_total = 0
    for g, text, e in docs:
        if g not in ("verbatim", "width"):
            continue
        doc = Document(text=text, id="d")
        p_total += 1
        if passage.filter(doc) is True:
            p_kept += 1
            q = next(q for q in indexed if q.id == e)
            p_exact += doc.metadata[D.META_DECONTAM_REMOVED_CHARS] >= 0.9 * len(q.text)
    os.remove(bench_file)
    chosen = {
        "unit": step.unit,
        "n": step.n,
        "min_item_fraction": step.min_item_fraction,
        "index_build_s": round(build_s, 3),
        "index_mb": round(step.index.nbytes / 1e6, 2),
        "pickled_step_bytes": len(__import__("pickle").dumps(step)),
        "documents": len(texts),
        "mb": round(mb, 2),
        "ms_per_mb": round(1000 * step_s / mb, 1),
        "removed": {g: round(sum(v) / len(v), 4) for g, v in removed.items()},
        "control_heldout_flagged": len(flagged),
        "control_heldout_flagged_reused_by_exam": int(reused),
        "passage_mode_kept_with_question_removed": f"{p_kept}/{p_total} ({p_exact} removed >= 90% of the question's chars)",
    }
    result = {
        "indexed": len(indexed),
        "held_out": len(held),
        "per_variant": args.per_variant,
        "seed": args.seed,
        "sweep": sweep,
        "chosen": chosen,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    cols = [
        "unit",
        "n",
        "min_part_ngrams",
        "min_item_fraction",
        *GROUPS,
        "control_heldout",
        "control_report",
        "s_per_mb",
    ]
    print(" | ".join(cols))
    for row in sweep:
        print(" | ".join(str(row[c]) for c in cols))
    print(json.dumps(chosen, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
