"""Throughput of ``jmedcorpus tokenize`` against the tokenizer's own batch encoding of the same text.

What it does, in one run:

1. **Input.** At least ``--mb`` MB (10^6 bytes of UTF-8) of distinct synthetic Japanese documents,
   made like ``bench_build.py``'s (8-40 real sentences from ``case_reports.jsonl`` or the
   licensing-exam questions, drawn with a seeded ``random.Random``), written as a build output:
   ``OUT/data/train-0000k-of-00003.parquet`` (id, text, source; zstd; one row group each, as
   ``jmedcorpus build`` writes 50 MB) and an ``OUT/manifest.json``. The build itself is not run:
   only ``tokenize`` is measured.
2. **Tokenizer.** A byte-level BPE of ``--vocab`` entries (default 32,000: uint16 shards) trained
   here with the ``tokenizers`` library on the first 5 MB of the documents, saved with
   ``save_pretrained`` as a ``PreTrainedTokenizerFast`` (EOS ``<|endoftext|>``). Not timed.
3. **Baselines, 1 core**, in a child Python process with ``TOKENIZERS_PARALLELISM=false``, over
   the same documents in batches of 512 read from the same Parquet files; only the encode calls
   are timed (reading each batch and creating the tokenizer are not):
   - ``tokenizer(batch, add_special_tokens=False)["input_ids"]`` (transformers' own call);
   - ``tokenizer.backend_tokenizer.encode_batch_fast(batch, add_special_tokens=False)`` and the
     ids read out (the Rust library without offsets: the fastest way it offers).
4. **The command**: ``jmedcorpus tokenize OUT --tokenizer DIR --output TOK --workers 1
   --no-progress --json`` as a subprocess. Seconds = wall clock of the whole command: Python
   start and imports (transformers, Ray), Ray start and stop, the parity check, reading sources,
   tokenizing, writing the shards and the manifest. The manifest's ``timing_seconds.tokenize``
   (the tokenize stage: Ray tasks, Parquet reads, encoding, token files) is reported as well.

Steps 3 and 4 run ``--rounds`` times (default 3), interleaved; each row reports its fastest round
(noise only ever adds time), and ``--json`` keeps every round. Rates are in content tokens per second (EOS not counted, the same count for every row) and MB/s
of text; the ratios are the command's rate over each baseline's. The token counts of the command
and the baselines are checked to agree (the command adds one EOS per document). Never prints
document text. The machine is assumed noisy: run it more than once before trusting a digit.

usage:
    python bench/bench_tokenize.py --mb 50
    python bench/bench_tokenize.py --mb 5 --json /tmp/bt.json --keep --workdir /tmp/bt
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import MB, load_sentences  # the same sentence pools as bench_build

BATCH = 512
N_SHARDS = 3  # what jmedcorpus build writes for 50 MB (at most 8 shards of >= 16 MB)
TRAIN_BYTES = 5 * MB


def generate_corpus(data_dir: Path, target_mb: float, seed: int, out: Path) -> dict:
    """A build-like output of >= target_mb MB of distinct documents; returns a summary."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pools = load_sentences(data_dir)
    rng, sources, seen = random.Random(seed), sorted(pools), set()
    docs, total = [], 0
    while total < target_mb * MB:
        source = sources[rng.randrange(len(sources))]
        pool = pools[source]
        text = "".join(pool[rng.randrange(len(pool))] for _ in range(rng.randint(8, 40)))
        if text in seen:
            continue
        seen.add(text)
        docs.append((f"bench-{len(docs):07d}", text, source))
        total += len(text.encode("utf-8"))
    (out / "data").mkdir(parents=True, exist_ok=True)
    for k in range(N_SHARDS):
        part = docs[k * len(docs) // N_SHARDS : (k + 1) * len(docs) // N_SHARDS]
        table = pa.table({name: [d[i] for d in part] for i, name in enumerate(("id", "text", "source"))})
        pq.write_table(table, out / "data" / f"train-{k:05d}-of-{N_SHARDS:05d}.parquet", compression="zstd")
    (out / "manifest.json").write_text(json.dumps({"note": "written by bench/bench_tokenize.py"}))
    return {"docs": len(docs), "text_bytes": total, "sources": sources}


def train_tokenizer(corpus: Path, vocab: int, path: Path) -> dict:
    import pyarrow.parquet as pq
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts, size = [], 0
    for t in (
        pq.read_table(corpus / "data" / f"train-00000-of-{N_SHARDS:05d}.parquet").column("text").to_pylist()
    ):
        texts.append(t)
        size += len(t.encode("utf-8"))
        if size >= TRAIN_BYTES:
            break
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    t0 = time.perf_counter()
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    fast.save_pretrained(path)
    return {"vocab": len(fast), "trained_on_bytes": size, "train_seconds": round(time.perf_counter() - t0, 1)}


def baseline_child(corpus: str, tokenizer: str) -> None:
    """Child process: time the tokenizer's own batch encodings over the corpus (1 core); print JSON."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer, use_fast=True, local_files_only=True)
    backend = tok.backend_tokenizer
    ways = {
        "transformers_call": lambda b: tok(b, add_special_tokens=False)["input_ids"],
        "encode_batch_fast": lambda b: [
            e.ids for e in backend.encode_batch_fast(b, add_special_tokens=False)
        ],
    }
    files = sorted(Path(corpus, "data").glob("*.parquet"))
    out = {}
    for name, fn in ways.items():
        tokens, seconds, warm = 0, 0.0, False
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH, columns=["text"]):
                texts = batch.column(0).to_pylist()  # read outside the clock
                if not warm:
                    fn(texts)
                    warm = True
                t0 = time.perf_counter()
                tokens += sum(map(len, fn(texts)))
                seconds += time.perf_counter() - t0
        out[name] = {"seconds": seconds, "tokens": tokens}
    print(json.dumps(out))


def run_command(corpus: Path, tokenizer: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "jmedcorpus", "tokenize", str(corpus), "--tokenizer", str(tokenizer)]
    cmd += ["--output", str(out), "--workers", "1", "--no-progress", "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"bench_tokenize: the command failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"seconds": seconds, "manifest_run": manifest["run"], "totals": manifest["totals"]}


def report(res: dict) -> str:
    text_mb, docs = res["input"]["text_bytes"] / MB, res["input"]["docs"]
    tokens = res["baselines"]["transformers_call"]["tokens"]
    rows = [
        ("transformers `tokenizer(batch)`, 1 core", res["baselines"]["transformers_call"]["seconds"]),
        ("tokenizers `encode_batch_fast`, 1 core", res["baselines"]["encode_batch_fast"]["seconds"]),
        ("jmedcorpus tokenize, 1 worker (wall clock of the command)", res["command"]["seconds"]),
        (
            "tokenize stage (manifest timing_seconds.tokenize)",
            res["command"]["manifest_run"]["timing_seconds"]["tokenize"],
        ),
    ]
    head = f"input: {text_mb:.1f} MB of text, {docs:,} documents, {tokens:,} tokens (+{docs:,} EOS); "
    lines = [
        head + f"tokenizer: byte-level BPE, vocab {res['tokenizer']['vocab']:,}; {res['machine']}",
        "",
        "| run | seconds | MB/s | tokens/s |",
        "| --- | --- | --- | --- |",
    ]
    for name, s in rows:
        lines.append(f"| {name} | {s:.1f} | {text_mb / s:.2f} | {tokens / s:,.0f} |")
    cmd = res["command"]["seconds"]
    lines.append("")
    for key, label in (("transformers_call", "tokenizer(batch)"), ("encode_batch_fast", "encode_batch_fast")):
        lines.append(
            f"- command tokens/s / {label} tokens/s = **{res['baselines'][key]['seconds'] / cmd:.2f}**"
        )
    stage = res["command"]["manifest_run"]["timing_seconds"]["tokenize"]
    lines.append(
        f"- tokenize stage / encode_batch_fast = {res['baselines']['encode_batch_fast']['seconds'] / stage:.2f}"
    )
    lines.append(f"- manifest timing_seconds: {res['command']['manifest_run']['timing_seconds']}")
    lines.append(
        f"- tokenize task seconds (inside the tasks): {res['command']['manifest_run']['tokenize_task_seconds']}"
    )
    lines.append(
        f"- rounds: {len(res['rounds'])}; command seconds per round: {[round(r['command']['seconds'], 1) for r in res['rounds']]}"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--rounds", type=int, default=3, help="baseline + command rounds; the fastest of each is reported"
    )
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--_baseline", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._baseline:
        baseline_child(*args._baseline)
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_tokenize-"))
    try:
        res = {"machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"}
        res["input"] = generate_corpus(args.data_dir, args.mb, args.seed, work / "out")
        res["tokenizer"] = train_tokenizer(work / "out", args.vocab, work / "tokenizer")
        rounds = []
        for _ in range(args.rounds):  # interleaved, so that the load of a noisy machine hits both
            child = subprocess.run(
                [sys.executable, __file__, "--_baseline", str(work / "out"), str(work / "tokenizer")],
                capture_output=True,
                text=True,
                check=True,
            )
            shutil.rmtree(work / "tok", ignore_errors=True)
            command = run_command(work / "out", work / "tokenizer", work / "tok")
            rounds.append(
                {"baselines": json.loads(child.stdout.strip().splitlines()[-1]), "command": command}
            )
        res["rounds"] = rounds
        res["baselines"] = {
            name: min((r["baselines"][name] for r in rounds), key=lambda b: b["seconds"])
            for name in rounds[0]["baselines"]
        }
        res["command"] = min((r["command"] for r in rounds), key=lambda c: c["seconds"])
        content = res["command"]["totals"]["tokens"] - res["command"]["totals"]["documents"]
        for name, b in res["baselines"].items():
            if b["tokens"] != content:
                sys.exit(f"bench_tokenize: {name} counted {b['tokens']:,} tokens, the command {content:,}")
        print(report(res))
        if args.json:
            args.json.write_text(json.dumps(res, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
