"""Speed of the ``minhash_dedup`` step: signature throughput per core against datatrove and
datasketch, and end-to-end near-duplicate removal of 1,000,000 documents through the CLI.

What it does, in one run (``--part 1``, ``--part 2`` or both, the default):

**Part 1: signature throughput on one core.** One process, no Ray, text already in memory.

- *Text.* At least ``--sig-mb`` MB (10^6 bytes of UTF-8) of synthetic documents built from the
  real sentences of ``case_reports.jsonl`` and ``igakuqa_2018_2022_ja.jsonl`` in ``--data-dir``
  (cut after 。 ． or a newline, as ``bench_build.py`` does): each document is 3-40 sentences of
  one source drawn with a seeded ``random.Random``, then ``normalize_text`` (what the default
  recipe's ``normalize`` step hands to ``minhash_dedup``). Every row measures the same documents;
  slow rows measure a prefix of them of at least ``--slow-mb`` MB (said in the table).
- *Rows.* Seconds are ``time.perf_counter`` around the signature work only (MeCab tokens, where
  a row says "tokens given", and normalized strings for datasketch are computed before the clock
  starts); each row runs ``--repeat`` times, rows interleaved, and the fastest run counts. Each
  row is warmed up on a few documents first (tables, permutations, the MeCab dictionary).

  1. *ours, char 5-grams*: ``MinhashDedup().sign(batch)`` over batches of ``BATCH_DOCS`` (512)
     documents, as a build unit does: normalization, shingling and 128 datasketch ``affine32``
     permutations.
  2. *ours, MeCab 3-grams, tokens given*: ``MinhashDedup(shingle="mecab", n=3).sign(batch)`` of
     pre-tokenized documents (``token_shingles`` + ``signatures``; the build reuses the ``mecab``
     step's tokens). Also *with tokenization*: ``prepare`` (MeCab) + ``sign`` timed together.
  3. *datatrove, Japanese as configured*: ``MinhashDedupSignature(config=MinhashConfig(),
     language=Languages.japanese)`` (defaults: word 5-grams, 14 buckets x 8 hashes = 112 hashes,
     64-bit xxhash, mod 2^61-1), timed ``get_signature(get_shingles(text))`` per document, which
     is its per-document work (writing and sorting its bucket files is extra and not timed). Its
     Japanese tokenizer is spaCy + SudachiPy; when they are not importable the row says so.
  4. *datatrove with our MeCab tokenizer*: the same step built with
     ``language=jmedcorpus.text.mecab.get_tokenizer()`` (datatrove's ``load_word_tokenizer``
     takes a ``WordTokenizer`` in place of a language; the step keeps it in ``word_tokenizer``).
     Timed with tokenization, and with *tokens given*: ``word_tokenizer`` replaced by a lookup of
     the MeCab tokens of each document's ``simplify_text`` output, computed beforehand, so the
     clock covers ``simplify_text`` + n-gram join + xxhash64 + the signature.
  5. *datasketch ``MinHash.update`` loop*: per document ``MinHash(num_perm=128,
     hashfunc=xxhash.xxh32_intdigest)`` and ``update(s.encode())`` for every character 5-gram
     ``s`` of the text after our shingle normalization (``normalized_code_points``, computed
     before the clock: datasketch has no normalization of its own, so this favours it).
  6. *datasketch ``update_batch``* per document (same shingles, a new ``MinHash`` each), and
     *``MinHash.bulk``* over all documents (one initialized ``MinHash`` copied per document).

  MB/s = text bytes of the measured documents / seconds; ratios are of MB/s.

**Part 2: end-to-end dedup of ``--docs`` documents** (default 1,000,000).

- *Input.* Base documents of 2-8 real sentences of one source (distinct texts; about 150
  characters on average), plus planted duplicates of randomly chosen bases: 5% of ``--docs``
  exact copies and 10% near copies, each with ONE edit drawn uniformly from ``width`` (full-width
  <-> ASCII letters and digits, up to 3 katakana words in half-width), ``delete_sentence``,
  ``edit_number``, ``header_footer`` (the edit functions of ``dedup_accuracy.py``, with their
  fallbacks when an edit cannot apply). All documents are shuffled and numbered ``doc-0000001``
  ... in file order; 8 JSONL files. The ground truth (group = base of each document, edit kind)
  stays in memory; each near copy's exact Jaccard with its base over the step's shingles
  (``char_shingles`` with the step's default n) is computed so the report can say how many are
  reachable at the step's default threshold. No text is kept after the files are written.
- *The build.* ``jmedcorpus build RECIPE --input <8 files> --output OUT --workers N
  --no-progress --json`` as a subprocess, RECIPE holding only ``exact_dedup`` and
  ``minhash_dedup`` (defaults), so it measures read + exact hashes + signatures + band buckets +
  connected components + publish, not MeCab. Seconds = wall clock of the whole command. The RSS
  of its whole process tree (driver, Ray's processes and workers) is sampled every 0.2 s with
  ``bench_build.TreeSampler`` (peak total, peak of the largest process; shared pages are
  counted once per process, so the total over-states the footprint), and the running peaks at
  the end of each build phase (placed by the manifest's ``timing_seconds``; approximate).
- *Scores* from ``OUT/removed/<step>/*.parquet`` (``id``, ``duplicate_of``): a planted pair is
  *found* when base and copy end with the same kept document (after both steps); a removal is
  *planted* when the removed document and the one kept instead are in the same planted group,
  else *unplanted* (random sentence mixes that happen to be near-duplicates: a real finding,
  not necessarily an error, since the sentence pool is small). For a random sample of 2,000
  unplanted removals the exact Jaccard with the document kept instead is computed from the
  texts read back from the output (``removed/minhash_dedup`` and ``data/``); cluster sizes and
  each removal's estimated Jaccard with the kept document come from the step's ``signals``.
  SHA-256 prefixes of the library files are recorded before and after the build (the JSON
  says if they changed while it ran).

Prints Markdown tables; ``--json PATH`` writes every figure. Never prints document text.
The machine is assumed noisy: run it more than once before trusting a digit.

usage:
    python bench/bench_minhash.py                           # both parts, defaults
    python bench/bench_minhash.py --part 1 --sig-mb 20 --json /tmp/sig.json
    python bench/bench_minhash.py --part 2 --docs 20000 --workdir /tmp/mh --keep
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import MB, BackgroundThread, TreeSampler, load_sentences

FREE_DISK_MIN = 5 * 10**9
N_FILES = 8
NEAR_KINDS = ["width", "delete_sentence", "edit_number", "header_footer"]


def make_documents(pools: dict[str, list[str]], rng: random.Random, lo: int, hi: int):
    """Endless distinct documents of ``lo``-``hi`` sentences of one source: ``(source, text)``."""
    sources = sorted(pools)
    seen: set[str] = set()
    while True:
        pool = pools[sources[rng.randrange(len(sources))]]
        text = "".join(pool[rng.randrange(len(pool))] for _ in range(rng.randint(lo, hi)))
        if text not in seen:
            seen.add(text)
            yield text


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


# ============================================================================= part 1


def prefix(texts: list[str], nbytes: int) -> list[str]:
    """The shortest prefix of ``texts`` holding at least ``nbytes`` bytes of UTF-8."""
    total = 0
    for i, t in enumerate(texts):
        total += utf8_len(t)
        if total >= nbytes:
            return texts[: i + 1]
    return texts


def _normalized_strings(texts: list[str]) -> list[str]:
    from jmedcorpus.dedup.shingles import normalized_code_points

    return [normalized_code_points(t).astype("<u4").tobytes().decode("utf-32-le") for t in texts]


def _char5(s: str) -> list[bytes]:
    """Character 5-grams of a normalized string (the whole string when shorter), as bytes."""
    return [s[i : i + 5].encode() for i in range(max(1, len(s) - 4))] if s else []


DATATROVE_NOTES: list[str] = []


def _datatrove_minhash():
    """datatrove's ``pipeline/dedup/minhash.py``. The package ``datatrove.pipeline.dedup`` imports
    its exact-substring module in ``__init__``, which needs ``tokenizers`` (datatrove's
    ``processing`` extra); when that is missing, the file is loaded on its own (it has only
    absolute imports), so the measured code is datatrove's, unchanged."""
    try:
        import datatrove.pipeline.dedup.minhash as module

        return module
    except ModuleNotFoundError as e:
        name = "_bench_datatrove_minhash"
        if name not in sys.modules:
            import importlib.util

            import datatrove.pipeline

            path = Path(datatrove.pipeline.__file__).parent / "dedup" / "minhash.py"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
            DATATROVE_NOTES.append(
                f"`import datatrove.pipeline.dedup` fails ({e}: the package __init__ imports exact_substrings, "
                f"which needs datatrove's `processing` extra); datatrove's minhash.py was loaded from its file"
            )
        return sys.modules[name]


def _xxh64_of_str(text: str) -> int:
    import xxhash

    return xxhash.xxh64_intdigest(text.encode("utf-8"))


def _datatrove_step(tokenizer):
    dt = _datatrove_minhash()
    tmp = tempfile.mkdtemp(prefix="bench-minhash-dt-")
    try:
        step = dt.MinhashDedupSignature(output_folder=tmp, config=dt.MinhashConfig(), language=tokenizer)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    try:
        step._hash_func("ｘ")
    except TypeError as e:
        # datatrove's xxhash64 passes str; xxhash >= 4 takes bytes only (datatrove pins xxhash<4 in
        # its ``processing`` extra). Same hash as xxhash 3 gave for a str: xxh64 of its UTF-8.
        step._hash_func = _xxh64_of_str
        import xxhash

        note = (
            f"datatrove's default xxhash64 fails on str with xxhash {xxhash.VERSION} installed ({e}); its "
            f"`_hash_func` was replaced by xxh64 of the UTF-8 bytes, what xxhash<4 computed for a str"
        )
        if note not in DATATROVE_NOTES:
            DATATROVE_NOTES.append(note)
    return step


def _datatrove_loop(step, texts: list[str]) -> None:
    get_shingles, get_signature = step.get_shingles, step.get_signature
    for t in texts:
        shingles = get_shingles(t)
        if shingles.size:
            get_signature(shingles)


def _pretokenized_class():
    from datatrove.utils.word_tokenizers import WordTokenizer

    class Pretokenized(WordTokenizer):
        """Tokens looked up, not computed: isolates datatrove's hashing from tokenization."""

        def __init__(self, tokens: dict[str, list[str]]):
            super().__init__("ja")
            self.tokens = tokens

        def word_tokenize(self, text: str) -> list[str]:
            return self.tokens[text]

        def sent_tokenize(self, text: str) -> list[str]:
            raise NotImplementedError

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            raise NotImplementedError

    return Pretokenized


def signature_rows(texts: list[str], slow: list[str]) -> list[dict]:
    """Every Part 1 row: ``name``, ``docs`` (the measured documents), ``hashes``, and ``fn(k)``
    (the timed work on the first ``k`` of them) or ``error``."""
    import xxhash
    from datasketch import MinHash

    from jmedcorpus.dedup.minhash import BATCH_DOCS, MinhashDedup
    from jmedcorpus.text.mecab import get_tokenizer

    rows: list[dict] = []
    char_step = MinhashDedup()
    mecab_step = MinhashDedup(shingle="mecab", n=3)

    def ours_char(k):
        for i in range(0, k, BATCH_DOCS):
            char_step.sign(texts[i : min(k, i + BATCH_DOCS)])

    rows.append(
        {"key": "ours_char", "name": "ours, char 5-grams", "docs": texts, "hashes": 128, "fn": ours_char}
    )

    print("part 1: MeCab tokens for the token rows ...", file=sys.stderr)
    tokens = [mecab_step.prepare(t) for t in texts]

    def ours_mecab(k):
        for i in range(0, k, BATCH_DOCS):
            mecab_step.sign(tokens[i : min(k, i + BATCH_DOCS)])

    def ours_mecab_tokenize(k):
        for i in range(0, k, BATCH_DOCS):
            mecab_step.sign([mecab_step.prepare(t) for t in texts[i : min(k, i + BATCH_DOCS)]])

    rows.append(
        {
            "key": "ours_mecab_tokens_given",
            "name": "ours, MeCab-token 3-grams, tokens given",
            "docs": texts,
            "hashes": 128,
            "fn": ours_mecab,
        }
    )
    rows.append(
        {
            "key": "ours_mecab_with_tokenization",
            "name": "ours, MeCab-token 3-grams, MeCab tokenization included",
            "docs": texts,
            "hashes": 128,
            "fn": ours_mecab_tokenize,
        }
    )

    # 3. datatrove as configured for Japanese (spaCy + SudachiPy)
    from datatrove.utils.typeshelper import Languages

    row = {"key": "datatrove_ja", "name": "datatrove MinhashDedupSignature, language=ja (spaCy/SudachiPy)"}
    try:
        dt_ja = _datatrove_step(Languages.japanese)
        dt_ja.get_shingles("ウォームアップの文です。")
    except (ImportError, OSError, RuntimeError, ValueError) as e:  # spaCy/SudachiPy or a dictionary missing
        row.update(docs=slow, hashes=112, error=f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
    else:
        row.update(docs=slow, hashes=dt_ja.num_hashes, fn=lambda k: _datatrove_loop(dt_ja, slow[:k]))
    rows.append(row)

    # 4. datatrove with our MeCab tokenizer, tokenization included and tokens given
    from datatrove.utils.text import simplify_text

    dt_mecab = _datatrove_step(get_tokenizer())
    assert dt_mecab.word_tokenizer is get_tokenizer()
    rows.append(
        {
            "key": "datatrove_mecab",
            "name": "datatrove MinhashDedupSignature, our MeCab tokenizer",
            "docs": texts,
            "hashes": dt_mecab.num_hashes,
            "fn": lambda k: _datatrove_loop(dt_mecab, texts[:k]),
        }
    )
    print("part 1: MeCab tokens of datatrove's simplify_text ...", file=sys.stderr)
    simplified_tokens = {}
    for t in texts:
        s = simplify_text(t, dt_mecab.config.norm_config)
        simplified_tokens[s] = list(get_tokenizer().word_tokenize(s))
    dt_given = _datatrove_step(get_tokenizer())
    dt_given.word_tokenizer = _pretokenized_class()(simplified_tokens)
    rows.append(
        {
            "key": "datatrove_mecab_tokens_given",
            "name": "datatrove MinhashDedupSignature, MeCab tokens given",
            "docs": texts,
            "hashes": dt_given.num_hashes,
            "fn": lambda k: _datatrove_loop(dt_given, texts[:k]),
        }
    )

    # 5-6. datasketch on the strings our shingling normalizes to
    norm = _normalized_strings(slow)
    h32 = xxhash.xxh32_intdigest

    def ds_update(k):
        for s in norm[:k]:
            m = MinHash(num_perm=128, hashfunc=h32)
            for g in _char5(s):
                m.update(g)

    def ds_update_batch(k):
        for s in norm[:k]:
            m = MinHash(num_perm=128, hashfunc=h32)
            m.update_batch(_char5(s))

    def ds_bulk(k):
        MinHash.bulk((_char5(s) for s in norm[:k]), num_perm=128, hashfunc=h32)

    for key, name, fn in (
        ("datasketch_update", "datasketch `MinHash.update` loop, xxh32, char 5-grams", ds_update),
        ("datasketch_update_batch", "datasketch `update_batch` per document, xxh32", ds_update_batch),
        ("datasketch_bulk", "datasketch `MinHash.bulk`, xxh32", ds_bulk),
    ):
        rows.append({"key": key, "name": name, "docs": slow, "hashes": 128, "fn": fn})
    return rows


def part1(pools: dict[str, list[str]], args) -> dict:
    from jmedcorpus.text.normalize import normalize_text

    rng = random.Random(args.seed)
    gen = make_documents(pools, rng, 3, 40)
    texts: list[str] = []
    total = 0
    while total < args.sig_mb * MB:
        texts.append(normalize_text(next(gen)))
        total += utf8_len(texts[-1])
    slow = prefix(texts, int(args.slow_mb * MB))
    lengths = sorted(utf8_len(t) for t in texts)
    print(
        f"part 1: {len(texts):,} documents, {total / MB:.1f} MB; slow rows on {len(slow):,} documents",
        file=sys.stderr,
    )
    rows = signature_rows(texts, slow)
    for row in rows:  # warm-up: tables, permutations, the MeCab dictionary
        if "fn" in row:
            row["fn"](8)
    seconds: dict[str, list[float]] = {r["key"]: [] for r in rows if "fn" in r}
    cpu: dict[str, list[float]] = {k: [] for k in seconds}
    for rep in range(args.repeat):
        for row in rows:
            if "fn" not in row:
                continue
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            row["fn"](len(row["docs"]))
            t1, c1 = time.perf_counter(), time.process_time()
            seconds[row["key"]].append(t1 - t0)
            cpu[row["key"]].append(c1 - c0)
            print(f"part 1 rep {rep + 1}: {row['key']}: {t1 - t0:.2f} s", file=sys.stderr)
    out_rows = []
    for row in rows:
        nbytes = sum(utf8_len(t) for t in row["docs"])
        r = {
            "key": row["key"],
            "name": row["name"],
            "docs": len(row["docs"]),
            "text_mb": nbytes / MB,
            "subset": len(row["docs"]) < len(texts),
            "hashes": row["hashes"],
        }
        if "error" in row:
            r["error"] = row["error"]
        else:
            best = min(range(len(seconds[row["key"]])), key=seconds[row["key"]].__getitem__)
            r.update(
                seconds=seconds[row["key"]][best],
                cpu_seconds=cpu[row["key"]][best],
                all_seconds=[round(s, 3) for s in seconds[row["key"]]],
                mb_per_s=nbytes / MB / seconds[row["key"]][best],
                docs_per_s=len(row["docs"]) / seconds[row["key"]][best],
            )
        out_rows.append(r)
    rate = {r["key"]: r.get("mb_per_s") for r in out_rows}
    for r in out_rows:
        for base in ("datatrove_ja", "datatrove_mecab", "datatrove_mecab_tokens_given", "datasketch_update"):
            r[f"x_{base}"] = r["mb_per_s"] / rate[base] if r.get("mb_per_s") and rate[base] else None
    return {
        "docs": len(texts),
        "text_mb": total / MB,
        "slow_docs": len(slow),
        "slow_mb": sum(utf8_len(t) for t in slow) / MB,
        "doc_bytes_p10_median_p90": [
            lengths[len(lengths) // 10],
            lengths[len(lengths) // 2],
            lengths[len(lengths) * 9 // 10],
        ],
        "repeat": args.repeat,
        "rows": out_rows,
        "notes": DATATROVE_NOTES,
    }


def _fmt_ratio(x: float | None) -> str:
    return f"{x:.2f}" if x is not None else "n/a"


def report1(p: dict) -> str:
    p10, med, p90 = p["doc_bytes_p10_median_p90"]
    lines = [
        "### Part 1: signature throughput, one core, same text",
        "",
        (
            f"{p['docs']:,} synthetic documents from real sentences (3-40 sentences, `normalize_text`), "
            f"{p['text_mb']:.1f} MB of UTF-8 text, doc bytes p10/median/p90 {p10}/{med}/{p90}; "
            f"rows marked * measure the first {p['slow_docs']:,} documents ({p['slow_mb']:.2f} MB). "
            f"Best of {p['repeat']} runs."
        ),
        "",
        (
            "| # | row | hashes | docs | MB | seconds | CPU s | MB/s | docs/s "
            "| × datatrove ja | × datatrove+MeCab | × datatrove+MeCab tokens given | × datasketch update |"
        ),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    number = {
        "ours_char": "1",
        "ours_mecab_tokens_given": "2",
        "ours_mecab_with_tokenization": "2b",
        "datatrove_ja": "3",
        "datatrove_mecab": "4",
        "datatrove_mecab_tokens_given": "4b",
        "datasketch_update": "5",
        "datasketch_update_batch": "6",
        "datasketch_bulk": "6b",
    }
    for r in p["rows"]:
        star = "*" if r["subset"] else ""
        head = (
            f"| {number[r['key']]} | {r['name']}{star} | {r['hashes']} | {r['docs']:,} | {r['text_mb']:.2f} "
        )
        if "error" in r:
            lines.append(head + f"| not run: {r['error']} | | | | | | | |")
            continue
        lines.append(
            head
            + f"| {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['mb_per_s']:.2f} | {r['docs_per_s']:,.0f} "
            f"| {_fmt_ratio(r['x_datatrove_ja'])} | {_fmt_ratio(r['x_datatrove_mecab'])} "
            f"| {_fmt_ratio(r['x_datatrove_mecab_tokens_given'])} | {_fmt_ratio(r['x_datasketch_update'])} |"
        )
    lines += [""] + [f"- {note}" for note in p["notes"]]
    return "\n".join(lines)


# ============================================================================= part 2


def step_defaults() -> dict:
    """The ``minhash_dedup`` defaults the recipe resolves to (threshold, shingles, banding)."""
    from jmedcorpus.dedup.minhash import MinhashDedup

    step = MinhashDedup()
    assert step.shingle == "char", "the reachable count assumes character shingles"
    return {"threshold": step.threshold, "n": step.n, "bands": step.bands, "rows": step.rows}


def _exact_jaccards(pairs: list[tuple[str, str]], n: int) -> np.ndarray:
    """Exact Jaccard of the char-n-gram shingle sets (as minhash_dedup shingles) of each pair."""
    from jmedcorpus.dedup.shingles import char_shingles

    out = np.empty(len(pairs))
    for lo in range(0, len(pairs), 4096):
        batch = pairs[lo : lo + 4096]
        sh = char_shingles([t for pair in batch for t in pair], n)
        bounds = np.searchsorted(sh.owner, np.arange(2 * len(batch) + 1))
        for k in range(len(batch)):
            a = np.unique(sh.hashes[bounds[2 * k] : bounds[2 * k + 1]])
            b = np.unique(sh.hashes[bounds[2 * k + 1] : bounds[2 * k + 2]])
            inter = len(np.intersect1d(a, b, assume_unique=True))
            union = len(a) + len(b) - inter
            out[lo + k] = inter / union if union else 1.0
    return out


def generate_planted(pools: dict[str, list[str]], args, in_dir: Path) -> tuple[dict, dict]:
    """Write the Part 2 input; return (summary, ground truth arrays indexed by document number)."""
    from dedup_accuracy import make_copy

    defaults = step_defaults()
    threshold = defaults["threshold"]
    rng = random.Random(args.seed + 1)
    n = args.docs
    n_exact, n_near = round(0.05 * n), round(0.10 * n)
    n_base = n - n_exact - n_near
    gen = make_documents(pools, rng, 2, 8)
    bases = [next(gen) for _ in range(n_base)]
    seen = set(bases)
    docs: list[tuple[str, int, int]] = [(t, g, 0) for g, t in enumerate(bases)]  # text, group, kind code
    kinds = ["base", "exact", *NEAR_KINDS]
    for g in rng.sample(range(n_base), n_exact):
        docs.append((bases[g], g, 1))
    drawn = dict.fromkeys(NEAR_KINDS, 0)
    applied = dict.fromkeys(NEAR_KINDS, 0)
    near_pairs: list[tuple[str, str]] = []
    near_kind: list[int] = []
    collisions = 0
    for g in rng.sample(range(n_base), n_near):
        kind = rng.choice(NEAR_KINDS)
        drawn[kind] += 1
        for attempt in range(100):
            # an edit that made an existing text is drawn again; after 10 tries (a document whose
            # every deletion gives another base) a header or footer, which has many variants
            done, text = make_copy(bases[g], kind if attempt < 10 else "header_footer", rng)
            if text not in seen:
                break
            collisions += 1
        else:
            raise RuntimeError("bench_minhash: could not make a distinct near copy")
        seen.add(text)
        applied[done] += 1
        docs.append((text, g, kinds.index(done)))
        near_pairs.append((bases[g], text))
        near_kind.append(kinds.index(done))
    del seen
    t0 = time.perf_counter()
    near_j = _exact_jaccards(near_pairs, defaults["n"])
    jaccard_seconds = time.perf_counter() - t0
    del near_pairs
    rng.shuffle(docs)
    group = np.array([g for _, g, _ in docs], dtype=np.int64)
    kind = np.array([k for _, _, k in docs], dtype=np.int8)
    in_dir.mkdir(parents=True, exist_ok=True)
    files, per_file = [], -(-n // N_FILES)
    text_bytes, lengths = 0, []
    for f in range(N_FILES):
        path = in_dir / f"part-{f}.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for i in range(f * per_file, min(n, (f + 1) * per_file)):
                text = docs[i][0]
                nb = utf8_len(text)
                text_bytes += nb
                lengths.append(len(text))
                rec = {"id": f"doc-{i + 1:07d}", "text": text, "source": "bench-minhash"}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        files.append({"path": str(path), "bytes": path.stat().st_size})
    del docs, bases
    gc.collect()
    lengths.sort()
    near_kind_arr = np.array(near_kind, dtype=np.int8)
    summary = {
        "files": files,
        "docs": n,
        "base_docs": n_base,
        "planted_exact_copies": n_exact,
        "planted_near_copies": n_near,
        "near_kinds_drawn": drawn,
        "near_kinds_applied": applied,
        "near_edit_redrawn_collisions": collisions,
        "minhash_defaults": defaults,
        "near_reachable_at_threshold": int((near_j >= threshold).sum()),
        "near_reachable_by_kind": {
            k: [int(((near_kind_arr == kinds.index(k)) & (near_j >= threshold)).sum()), applied[k]]
            for k in NEAR_KINDS
        },
        "near_exact_jaccard_p10_median_p90": [round(float(x), 3) for x in np.percentile(near_j, [10, 50, 90])]
        if len(near_j)
        else [],
        "exact_jaccard_seconds": round(jaccard_seconds, 1),
        "text_bytes": text_bytes,
        "jsonl_bytes": sum(f["bytes"] for f in files),
        "chars_mean": sum(lengths) / n,
        "chars_p10_median_p90": [lengths[n // 10], lengths[n // 2], lengths[n * 9 // 10]],
    }
    return summary, {"group": group, "kind": kind, "kinds": kinds}


RECIPE = """\
# bench_minhash.py: only the two dedup steps, defaults (no normalize, no MeCab)
recipe_version: 1
name: bench_minhash
steps:
  - use: exact_dedup
  - use: minhash_dedup
"""


class PeakTimeline(BackgroundThread):
    """Every 0.25 s, the running peaks a ``TreeSampler`` has seen so far (total tree, largest
    process), with the time since the command started: tells in which phase a peak was reached."""

    def __init__(self, sampler: TreeSampler, t0: float) -> None:
        super().__init__()
        self.sampler, self.t0 = sampler, t0
        self.points: list[tuple[float, int, int]] = []

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            try:
                largest = max((rss for _, rss in list(self.sampler.peak_by_pid.values())), default=0)
            except RuntimeError:  # the sampler thread added a process meanwhile
                continue
            self.points.append((time.perf_counter() - self.t0, self.sampler.peak_total, largest))

    def by_phase(self, wall: float, timing: dict) -> dict:
        """Running peaks (MB) at the end of each build phase. The phases are placed by the
        manifest's ``timing_seconds`` after ``wall - total`` seconds of start-up (interpreter,
        imports; Ray's shutdown at the end is counted there too, so boundaries are approximate)."""
        start = wall - timing["total"]
        ends = {"startup": start}
        for phase in ("process", "dedup", "publish"):
            start += timing[phase]
            ends[phase] = start
        ends["exit"] = wall
        out = {}
        for phase, end in ends.items():
            seen = [p for p in self.points if p[0] <= end]
            total, largest = (seen[-1][1], seen[-1][2]) if seen else (0, 0)
            out[phase] = {
                "t_end_s": round(end, 1),
                "total_mb": round(total / MB),
                "largest_mb": round(largest / MB),
            }
        return out


def run_build(files: list[str], recipe: Path, out_dir: Path, workers: int, log: Path) -> dict:
    options = {"--output": str(out_dir), "--workers": str(workers)}
    cmd = [sys.executable, "-m", "jmedcorpus", "build", str(recipe), "--input", *files]
    cmd += [x for kv in options.items() for x in kv] + ["--no-progress", "--json"]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        with TreeSampler(proc.pid, "build_driver") as sampler, PeakTimeline(sampler, t0) as timeline:
            stdout, _ = proc.communicate()
    wall = time.perf_counter() - t0
    res = {"seconds": wall, "returncode": proc.returncode, "memory": sampler.summary()}
    if proc.returncode != 0:
        # the CLI never puts document text in its errors
        res["error_tail"] = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        return res
    res["stdout_json"] = json.loads(stdout) if stdout.strip().startswith("{") else None
    res["manifest"] = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    res["memory"]["running_peak_by_phase"] = timeline.by_phase(wall, res["manifest"]["timing_seconds"])
    return res


def _removed(out_dir: Path, step: str):
    """(removed document numbers, kept document numbers) of one step, 0-based, and the table
    (``cluster``, ``signals``)."""
    import pyarrow.parquet as pq

    files = sorted(glob.glob(str(out_dir / "removed" / step / "*.parquet")))
    t = pq.read_table(files, columns=["id", "duplicate_of", "cluster", "signals"]) if files else None

    def numbers(col):
        values = t.column(col).to_pylist() if t is not None else []
        return np.array([int(x[4:]) - 1 for x in values], dtype=np.int64)

    return numbers("id"), numbers("duplicate_of"), t


def cluster_stats(t, planted: np.ndarray, threshold: float) -> dict:
    """Sizes of the clusters that removed something, and each removal's estimated Jaccard with
    the document kept instead (the ``signals`` the step writes), planted vs unplanted."""
    if t is None or not t.num_rows:
        return {}
    signals = [json.loads(x) for x in t.column("signals").to_pylist()]
    est = np.array([x["near_duplicate_jaccard"] for x in signals])
    _, first = np.unique(t.column("cluster").to_numpy(), return_index=True)
    sizes = np.array([signals[i]["cluster_size"] for i in first])
    out = {
        "clusters_with_removals": len(sizes),
        "cluster_size_p50_p99_max": [
            int(np.percentile(sizes, 50)),
            int(np.percentile(sizes, 99)),
            int(sizes.max()),
        ],
        "documents_in_clusters_over_10": int(sizes[sizes > 10].sum()),
    }
    for name, mask in (("planted", planted), ("unplanted", ~planted)):
        if mask.any():
            out[f"{name}_estimated_j_to_kept_median"] = round(float(np.median(est[mask])), 3)
            out[f"{name}_estimated_j_to_kept_below_threshold"] = int((est[mask] < threshold).sum())
    return out


def _texts_of(files: list[str], numbers: np.ndarray) -> dict[int, str]:
    """Texts of the given document numbers from Parquet files with ``id`` and ``text``."""
    import pyarrow.parquet as pq

    ids = sorted({f"doc-{i + 1:07d}" for i in numbers.tolist()})
    t = pq.read_table(files, columns=["id", "text"], filters=[("id", "in", ids)])
    return {int(i[4:]) - 1: x for i, x in zip(t.column("id").to_pylist(), t.column("text").to_pylist())}


def unplanted_check(out_dir: Path, d: np.ndarray, k: np.ndarray, sample: int, seed: int) -> dict:
    """Exact Jaccard of a sample of unplanted minhash removals with the document kept instead
    (a removal is a chain through its cluster, so a pair may be below the threshold and still
    be right); texts are read back from the output and never printed."""
    if not len(d):
        return {"sampled": 0}
    pick = np.random.default_rng(seed).choice(len(d), min(sample, len(d)), replace=False)
    d, k = d[pick], k[pick]
    removed = _texts_of(sorted(glob.glob(str(out_dir / "removed" / "minhash_dedup" / "*.parquet"))), d)
    kept = _texts_of(sorted(glob.glob(str(out_dir / "data" / "*.parquet"))), k)
    defaults = step_defaults()
    j = _exact_jaccards([(removed[a], kept[b]) for a, b in zip(d.tolist(), k.tolist())], defaults["n"])
    return {
        "sampled": len(j),
        "exact_j_at_or_above_threshold": int((j >= defaults["threshold"]).sum()),
        "exact_j_p10_median_p90": [round(float(x), 3) for x in np.percentile(j, [10, 50, 90])],
    }


def score(out_dir: Path, truth: dict, sample: int, seed: int) -> dict:
    group, kind, kinds = truth["group"], truth["kind"], truth["kinds"]
    n = len(group)
    root_exact, root_near = np.arange(n), np.arange(n)
    per_step = {}
    for step, root in (("exact_dedup", root_exact), ("minhash_dedup", root_near)):
        d, k, table = _removed(out_dir, step)
        root[d] = k
        planted = group[d] == group[k]
        per_step[step] = {
            "removed": len(d),
            "planted": int(planted.sum()),
            "unplanted": int((~planted).sum()),
            "removed_by_kind": {kinds[c]: int((kind[d] == c).sum()) for c in range(len(kinds))},
        }
        if step == "minhash_dedup":
            check = unplanted_check(out_dir, d[~planted], k[~planted], sample, seed)
            clusters = cluster_stats(table, planted, step_defaults()["threshold"])
    root = root_near[root_exact]
    base_of_group = np.empty(group.max() + 1, dtype=np.int64)
    base_of_group[group[kind == 0]] = np.flatnonzero(kind == 0)
    found = {}
    for c, name in enumerate(kinds):
        if c == 0:
            continue
        copies = np.flatnonzero(kind == c)
        base = base_of_group[group[copies]]
        found[name] = {
            "planted": len(copies),
            "found": int((root[copies] == root[base]).sum()),
            "found_by_exact_dedup": int((root_exact[copies] == root_exact[base]).sum()),
            # not found, and neither removed: a true miss (else each went to a different keeper)
            "both_kept": int(((root[copies] == copies) & (root[base] == base)).sum()),
        }
    return {"per_step": per_step, "pairs": found, "unplanted_check": check, "clusters": clusters}


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def part2(pools: dict[str, list[str]], args) -> dict:
    temporary = args.workdir is None
    work = Path(tempfile.mkdtemp(prefix="bench-minhash-")) if temporary else args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(work).free
    if free < FREE_DISK_MIN:
        sys.exit(f"bench_minhash: only {free / 1e9:.1f} GB free under {work}; need 5 GB (use --workdir)")
    in_dir, out_dir = work / "bench_minhash-input", work / "bench_minhash-output"
    recipe, log = work / "bench_minhash_recipe.yaml", work / "bench_minhash-build.log"
    owned = [work] if temporary else [in_dir, out_dir, recipe, log]  # what a run may delete
    for path in [] if temporary else owned:  # a fresh run in a given --workdir
        _remove(path)
    try:
        t0 = time.perf_counter()
        inp, truth = generate_planted(pools, args, in_dir)
        gen_seconds = time.perf_counter() - t0
        print(
            f"part 2: generated {inp['docs']:,} documents, {inp['text_bytes'] / MB:.1f} MB of text "
            f"({gen_seconds:.0f} s); build ...",
            file=sys.stderr,
        )
        recipe.write_text(RECIPE, encoding="utf-8")
        code = code_digests()  # the build's processes import the library when they start
        b = run_build([f["path"] for f in inp["files"]], recipe, out_dir, args.workers, log)
        changed = sorted(k for k, v in code_digests().items() if code.get(k) != v)
        res = {
            "workdir": str(work),
            "generation_seconds": gen_seconds,
            "distinct_sentences": {src: len(set(pool)) for src, pool in pools.items()},
            "input": {**inp, "files": [{"bytes": f["bytes"]} for f in inp["files"]]},
            "build": {k: v for k, v in b.items() if k != "manifest"},
            "code_sha256": code,
            "code_changed_during_build": changed,
        }
        if b["returncode"] != 0:
            print(f"part 2: build exited {b['returncode']}; log tail in the report", file=sys.stderr)
            return res
        m = b["manifest"]
        steps = {s["use"]: s for s in m["steps"]}
        res["manifest"] = {
            "timing_seconds": m["timing_seconds"],
            "work_units": m["work_units"],
            "counts": {k: m["counts"][k] for k in ("records_in", "kept", "removed", "quarantined")},
            "removed_by_step": {s["name"]: s["removed"] for s in m["steps"]},
            "minhash_details": steps.get("minhash_dedup", {}).get("details", {}),
        }
        res["build"]["mb_per_s"] = inp["text_bytes"] / MB / b["seconds"]
        res["build"]["docs_per_s"] = inp["docs"] / b["seconds"]
        res["score"] = score(out_dir, truth, 2000, args.seed)
        return res
    finally:
        for path in [] if args.keep else owned:
            _remove(path)
        print(
            f"part 2: {'kept' if args.keep else 'removed'} the input and output under {work}", file=sys.stderr
        )


def report2(p: dict, workers: int) -> str:
    inp, b = p["input"], p["build"]
    c10, cmed, c90 = inp["chars_p10_median_p90"]
    d = inp["minhash_defaults"]
    threshold = d["threshold"]
    lines = [
        f"### Part 2: end-to-end dedup of {inp['docs']:,} documents, `jmedcorpus build --workers {workers}`",
        "",
        "| input | docs | text MB | JSONL MB | files | chars mean | chars p10/median/p90 | planted exact | planted near |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        (
            f"| 2-8 real sentences per base | {inp['docs']:,} | {inp['text_bytes'] / MB:.1f} | {inp['jsonl_bytes'] / MB:.1f} "
            f"| {len(inp['files'])} | {inp['chars_mean']:.0f} | {c10}/{cmed}/{c90} | {inp['planted_exact_copies']:,} "
            f"| {inp['planted_near_copies']:,} |"
        ),
        "",
        (
            f"- minhash_dedup defaults: threshold {threshold}, char {d['n']}-grams, {d['bands']} bands x "
            f"{d['rows']} rows; near copies by edit (applied): {inp['near_kinds_applied']}; exact "
            f"char-{d['n']}-gram Jaccard with their base p10/median/p90 {inp['near_exact_jaccard_p10_median_p90']}; "
            f"reachable at J >= {threshold}: "
            f"{inp['near_reachable_at_threshold']:,} of {inp['planted_near_copies']:,} "
            f"(per edit [reachable, planted]: {inp['near_reachable_by_kind']})"
        ),
        "",
    ]
    m = b["memory"]
    if b["returncode"] != 0:
        lines += [
            (
                f"**The build failed** (exit {b['returncode']}) after {b['seconds']:.1f} s; peak RSS total "
                f"{m['peak_total_rss_mb']:.0f} MB, largest process {m['peak_single_process_rss_mb']:.0f} MB "
                f"({m['peak_single_process_role']}). Log tail:"
            ),
            "",
            "```",
            b["error_tail"],
            "```",
        ]
        return "\n".join(lines)
    mf = p["manifest"]
    t = mf["timing_seconds"]
    lines += [
        "| run | seconds | docs/s | MB/s | peak RSS total (MB) | peak RSS largest process (MB) |",
        "| --- | --- | --- | --- | --- | --- |",
        (
            f"| build, wall clock of the command | {b['seconds']:.1f} | {b['docs_per_s']:,.0f} | {b['mb_per_s']:.2f} "
            f"| {m['peak_total_rss_mb']:.0f} | {m['peak_single_process_rss_mb']:.0f} ({m['peak_single_process_role']}) |"
        ),
        (
            f"| build, manifest `timing_seconds.total` | {t['total']:.1f} | {inp['docs'] / t['total']:,.0f} "
            f"| {inp['text_bytes'] / MB / t['total']:.2f} | | |"
        ),
        "",
        (
            f"- manifest timing_seconds: process {t['process']:.1f} (read + exact hashes + signatures + band "
            f"files), dedup {t['dedup']:.1f} (exact buckets, minhash buckets, components), publish "
            f"{t['publish']:.1f}, total {t['total']:.1f}; {mf['work_units']} work units"
        ),
        f"- minhash_dedup details: {mf['minhash_details']}",
        (
            f"- counts: records in {mf['counts']['records_in']:,}, kept {mf['counts']['kept']:,}, removed "
            f"{mf['counts']['removed']:,} (by step: {mf['removed_by_step']}), quarantined {mf['counts']['quarantined']:,}"
        ),
        (
            f"- peak RSS by role (MB, per-process peak): {m['peak_rss_mb_by_role']}; processes: "
            f"{m['processes_by_role']}; CPU seconds by role: {m['cpu_seconds_by_role']}"
        ),
        "",
        "| step | removed | in a planted group | unplanted (chance near-duplicates of the generated text) |",
        "| --- | --- | --- | --- |",
    ]
    s = p["score"]
    u = s["unplanted_check"]
    for step, r in s["per_step"].items():
        lines.append(f"| {step} | {r['removed']:,} | {r['planted']:,} | {r['unplanted']:,} |")
    lines += [
        "",
        "| planted copy | planted | found (same kept document) | found by exact_dedup | not found, both kept |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in s["pairs"].items():
        lines.append(
            f"| {name} | {r['planted']:,} | {r['found']:,} | {r['found_by_exact_dedup']:,} | {r['both_kept']:,} |"
        )
    near = [r for k, r in s["pairs"].items() if k != "exact"]
    lines += [
        "",
        (
            f"- near copies found: {sum(r['found'] for r in near):,} of {sum(r['planted'] for r in near):,} "
            f"({inp['near_reachable_at_threshold']:,} have exact J >= {threshold}); exact copies found: "
            f"{s['pairs']['exact']['found']:,} of {s['pairs']['exact']['planted']:,}"
        ),
        (
            f"- unplanted minhash removals, a random sample of {u['sampled']:,}: exact char-{d['n']}-gram Jaccard "
            f"with the document kept instead >= {threshold} for {u.get('exact_j_at_or_above_threshold', 0):,}; "
            f"p10/median/p90 {u.get('exact_j_p10_median_p90', [])} (documents of 2-8 sentences drawn from "
            f"{sum(p['distinct_sentences'].values()):,} distinct real sentences share sentences by chance)"
        ),
        f"- minhash clusters that removed something (from `removed/minhash_dedup` signals): {s['clusters']}",
        f"- running peak RSS (MB) at the end of each build phase (approximate boundaries): {m['running_peak_by_phase']}",
        "- RSS totals count shared pages (libraries, Ray's object store) once per process.",
    ]
    return "\n".join(lines)


# ============================================================================= main


def code_digests() -> dict[str, str]:
    """Short SHA-256 of the library files this benchmark measures."""
    import hashlib

    root = Path(__file__).resolve().parents[1] / "jmedcorpus"
    files = sorted(root.glob("dedup/*.py"))  # the steps, their stages (dedup/stage.py) included
    return {str(f.relative_to(root.parent)): hashlib.sha256(f.read_bytes()).hexdigest()[:12] for f in files}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--part", choices=["1", "2", "all"], default="all")
    ap.add_argument("--sig-mb", type=float, default=20, help="Part 1: MB of text (default 20)")
    ap.add_argument(
        "--slow-mb", type=float, default=2, help="Part 1: MB prefix for the slow rows (default 2)"
    )
    ap.add_argument("--repeat", type=int, default=3, help="Part 1: runs per row, the fastest counts")
    ap.add_argument("--docs", type=int, default=1_000_000, help="Part 2: documents (default 1000000)")
    ap.add_argument("--workers", type=int, default=2, help="Part 2: --workers of the build (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, help="Part 2: input and output go here (default: a tempdir)")
    ap.add_argument("--keep", action="store_true", help="Part 2: keep the generated input and the output")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = ap.parse_args()

    pools = load_sentences(args.data_dir)
    started = time.strftime("%Y-%m-%d %H:%M:%S%z")
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    res: dict = {
        "started": started,
        "machine": machine,
        "seed": args.seed,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    res["sentence_pool"] = {s: len(p) for s, p in pools.items()}
    out = [f"## jmedcorpus MinHash benchmark, {started}, {machine['cpus']} CPUs, seed={args.seed}", ""]
    if args.part in ("1", "all"):
        res["part1_code_sha256"] = code_digests()  # the library changes fast: which code was measured
        res["part1"] = part1(pools, args)
        out += [report1(res["part1"]), ""]
        print(report1(res["part1"]), file=sys.stderr)
    if args.part in ("2", "all"):
        res["part2"] = part2(pools, args)
        out.append(report2(res["part2"], args.workers))
    changed = res.get("part2", {}).get("code_changed_during_build")
    if changed:
        out += ["", f"**Warning: library files changed while the build ran; it may mix versions: {changed}**"]
    print("\n".join(out))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if "part2" in res and res["part2"]["build"]["returncode"] != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
