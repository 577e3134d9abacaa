"""Speed of the ``personal_info`` step alone (jmedcorpus.pii), one process, MB/s per core.

Builds at least ``--mb`` MB (10^6 bytes of UTF-8) of distinct documents of 8-40 sentences drawn
with a seeded RNG from the real case reports (``../shared/data/case_reports.jsonl``, like
``bench/bench_build.py``), then runs :class:`PersonalInfoRedactor` over them ``--repeats`` times in
this process and reports the best time (the machine is shared: the best of several repeats is the
least disturbed). MeCab and the compiled regular expressions are warmed up before timing. Only
ids, counts and timings are printed, never document text.

    .venv/bin/python bench/bench_pii.py [--mb 5] [--repeats 5] [--seed 0] [--then-mecab] [--json out.json]

``--then-mecab`` times the ``mecab`` step after it too, as a build runs them: the step hands the
MeCab tokens of every document it leaves unchanged to that step.

Measured 2026-12-03 on the 2-core development machine while other jobs ran (load 0.7-1.7), 5.0 MB,
1,788 documents, the step before and after issue 14 in alternating rounds (4 rounds, best of 3
repeats each; with ``--then-mecab`` 2 rounds, best of 2), wall clock (CPU time within 2 %):

====================================  ================  =======================
version                               personal_info     personal_info + mecab
====================================  ================  =======================
before (full UniDic feature strings)  1.16 MB/s/core    0.94 MB/s/core
after (issue 14)                      3.61 MB/s/core    2.97 MB/s/core
====================================  ================  =======================

That is 3.1x (3.2x with the mecab step); the per-round ratios vary from 2.1x to 3.7x with the
load. Counted in instructions (valgrind --tool=callgrind, 200 documents, load-independent) the step
went from 7.5 to 1.6 G per MB (4.7x). About 60 % of what remains is MeCab's own lattice search
(``perf``), which the wakati tokenizer pays too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from datatrove.data import Document

from jmedcorpus.pii import PersonalInfoRedactor

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "case_reports.jsonl")
MB = 1_000_000


def build_corpus(path: str, target_mb: float, seed: int) -> list[str]:
    """Distinct documents of 8-40 case-report sentences, at least ``target_mb`` MB in all."""
    from bench_steps import load_sentences, sample_docs  # the same sampling as the step bench

    return sample_docs({"ja": load_sentences(Path(path).parent, [Path(path).name])}, target_mb, seed)


def time_step(texts: list[str], then_mecab: bool = False) -> tuple[float, float, Counter]:
    """Wall and CPU seconds of the step over ``texts`` (and of the ``mecab`` step after it), and the
    placeholders it wrote."""
    step = PersonalInfoRedactor()
    docs = [Document(text=t, id=f"b{i}") for i, t in enumerate(texts)]
    counts: Counter = Counter()
    t0, c0 = time.perf_counter(), time.process_time()
    out = step.run(iter(docs))
    if then_mecab:
        from jmedcorpus.text.tokenize_step import MecabTokenCounter

        out = MecabTokenCounter().run(out)
    for _ in out:
        pass
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    for doc in docs:
        counts.update({k: v for k, v in doc.metadata.items() if k.startswith("pii_") and v})
    return wall, cpu, counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", dest="json_path")
    ap.add_argument(
        "--then-mecab",
        action="store_true",
        help="time personal_info followed by the mecab step (build order)",
    )
    args = ap.parse_args(argv)

    texts = build_corpus(args.data, args.mb, args.seed)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    time_step(texts[:50], args.then_mecab)  # warm-up: MeCab dictionary, compiled patterns
    walls, cpus = [], []
    counts: Counter = Counter()
    for _ in range(args.repeats):
        wall, cpu, counts = time_step(texts, args.then_mecab)
        walls.append(wall)
        cpus.append(cpu)
    best = min(walls)
    result = {
        "documents": len(texts),
        "text_mb": nbytes / MB,
        "seed": args.seed,
        "repeats": args.repeats,
        "then_mecab": args.then_mecab,
        "seconds": [round(t, 3) for t in walls],
        "cpu_seconds": [round(t, 3) for t in cpus],
        "best_seconds": round(best, 3),
        "mb_per_s": nbytes / MB / best,
        "cpu_mb_per_s": nbytes / MB / min(cpus),
        "placeholders": dict(sorted(counts.items())),
    }
    print(
        f"personal_info{' + mecab' if args.then_mecab else ''}: {len(texts)} documents, {nbytes / MB:.2f} MB; best of {args.repeats}: "
        f"{best:.2f} s = {result['mb_per_s']:.2f} MB/s/core (CPU time: {result['cpu_mb_per_s']:.2f} MB/s; "
        f"all: {', '.join(f'{t:.2f}' for t in walls)} s)"
    )
    print(f"placeholders: {result['placeholders']}")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
