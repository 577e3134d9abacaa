"""The pipeline's own overhead per prompt in ``jmedcorpus synth``, with a real (tiny) model on CPU.

``synth`` spends most of its time in the engine. Its own work per prompt is: building the prompt
(template -> messages -> ``Request``, cache key), the request-cache lookup and append, parsing
(:mod:`jmedcorpus.synth.parsing`), validation (:mod:`jmedcorpus.synth.validation`: fastText
language id, MeCab grounding, benchmark-contamination n-grams, MinHash near-duplicates) and
writing Parquet. This script measures that work against the engine alone, in one run:

1. **Corpus.** The first ``--docs`` lines of ``case_reports.jsonl`` in ``--data-dir`` (real
   Japanese case reports) go through ``jmedcorpus build`` (python API, default recipe) into a
   temporary directory. Passages are selected as ``synth`` selects them (the same function its
   Ray tasks run, ``synth_passages.select_in_shard`` + ``merge_selections``; ``-n``, seed 0), and
   the script checks afterwards that ``synth`` selected the same ones.
2. **Model.** ``tests/synth/tiny_chat_model.py``: a byte-level BPE tokenizer with a ChatML
   template and a 2-layer Llama (hidden 64), built here. Unless ``--no-memorize``, it is trained
   to reproduce one valid exam item (``exam-json-valid`` of ``tests/data/synth_outputs.jsonl``,
   97 tokens) for its passage ``medtxt-cr-0002#0``, so one output is accepted; the other
   prompts get broken JSON-like text, cut at ``--max-tokens`` or stopped early. No stub: a
   ``TransformersEngine`` (``batch_size`` ``--batch-size``, CPU, ``torch.set_num_threads(
   --torch-threads)``) generates every output. One torch thread by default: with two threads
   on a 2-core machine, any other process on the machine makes torch's OpenMP threads spin and
   generation 10-50x slower and erratic; one thread also leaves the second core to the judging
   thread, much as a GPU engine leaves the CPU to it.
3. **Engine alone.** ``engine.generate(requests)`` on exactly the requests ``synth`` sends (same
   passages, template ``exam_mcq_v1``, temperature 0, ``--max-tokens``, per-request seeds),
   chunk by chunk as ``synth`` sends them (``--chunk-size``), after a 1-request warm-up. The
   time includes the engine's chat-template tokenization (``PromptFit.split``), as in ``synth``.
   It runs twice, once before and once after the whole path (the machine is noisy); the mean
   counts.
4. **Whole path.** ``synth(SynthOptions(..., engine=<the same engine object>))`` into a fresh
   output directory (nothing cached), with ``--decontaminate-against
   igakuqa_2018_2022_ja.jsonl`` (its ``text`` field holds question + options). Timed: the
   generate + judge + write part (``ChunkRun.execute``, wrapped by this script), and the whole
   ``synth()`` call (Ray start and the passage stage too). Also reported: the manifest's
   ``throughput`` (``engine_seconds`` is measured in the engine thread while the main thread
   judges the chunk before; ``pipeline_ms_per_prompt`` is the prompt building + judge/write
   time measured inside the run). Greedy decoding: the whole path generates the same tokens as
   the engine alone (checked). For each timed run the script also reports the CPU-seconds of
   this process, of every other process on the machine (``psutil``: ``synth`` keeps Ray up
   during its chunk loop, and Ray's processes share the cores with the engine) and the CPU
   time stolen by the hypervisor (on a virtual machine).
5. **Per-prompt components**, each timed alone over the same items, best of ``--repeat`` (fresh
   near-duplicate index, cleared passage cache and a fresh directory for every repeat):
   prompt building (``template.messages`` + ``Request`` + ``cache_key``), chat template +
   tokenization (``chat_prompt_ids``: done by the engine, counted in engine time), request cache
   (get miss + put + fsync per chunk), parsing (``parse_exam``), validation (``validate_exam``
   with the run's thresholds and the contamination index), the judge (``Judge.judge``: the
   finish-reason check, parsing and validation) and writing (rows + Parquet + chunk marker).
   On two sets of outputs:

   - *tiny model*: the tiny model's actual outputs (most are rejected cheaply: cut at
     ``max_tokens``, or unparseable);
   - *realistic*: the hand-written outputs of ``tests/data/synth_outputs.jsonl`` that a good
     model would give and the pipeline accepts (``kind == "exam"``, ``expect == "accepted"``:
     JSON, fenced JSON with chatter, text with tags or full-width labels), one per passage in
     turn. Each copy gets a new question stem (the passage's first sentences + the original's
     last sentence) so that copies are not near-duplicates of each other and the near-duplicate
     index grows as in a real run, and is judged against its passage followed by the case
     report it was written for (so it is grounded and accepted). Every check runs on these.

   For the realistic set the validation is also broken down by check (length, language,
   grounding, contamination, near-duplicate), and the near-duplicate check is also timed
   against an index of ``--dedup-index`` (default 100,000) accepted items.

The figures that carry over to a real model are the milliseconds per prompt of the pipeline's
own work: the tiny CPU model's speed is not representative. A 7-8B model on one H100 with vLLM
gives roughly 20-50 prompts/s, i.e. 20-50 ms of GPU time per prompt; the script prints what the
overhead would be at 30 prompts/s if it ran serially. In ``synth`` it does not run serially: the
engine runs one chunk ahead in a background thread while the main thread judges and writes the
chunk before, so the overhead is hidden as long as it is smaller than the engine's time per chunk
(and the judge has a core of its own).

Peak RSS is this process's (``resource.getrusage``: driver, model, fastText, MeCab); Ray's worker
processes of the build and passage stages are not included.

Prints Markdown tables; ``--json PATH`` writes every figure. Never prints document or output text.

usage:
    python bench/bench_synth.py
    python bench/bench_synth.py -n 100 --max-tokens 64 --json /tmp/bench_synth.json
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE_OUTPUTS = REPO / "tests" / "data" / "synth_outputs.jsonl"
MEMORIZED_KEY, MEMORIZED_OUTPUT = "medtxt-cr-0002#0", "exam-json-valid"
TEMPLATE = "exam_mcq_v1"
REFERENCE_PROMPTS_PER_S = 30.0  # a 7-8B model with vLLM on one H100: roughly 20-50 prompts/s
SENTENCE_END = re.compile(r"(?<=[。．])")


def log(msg: str) -> None:
    print(f"[bench_synth] {msg}", file=sys.stderr, flush=True)


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def best_of(repeat: int, fn) -> tuple[float, object]:
    """``(fastest seconds, result of the last call)`` of ``fn()`` over ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


@contextlib.contextmanager
def quiet():
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        yield


def grounding_module():
    """The module holding ``content_words`` and the passage cache ``_passage_forms``."""
    try:
        from jmedcorpus.synth import grounding
    except ImportError:  # before grounding moved out of validation.py
        from jmedcorpus.synth import validation as grounding
    return grounding


def clear_passage_cache() -> None:
    """Every passage is new to the pipeline: no repeat may reuse the last repeat's cache."""
    cached = getattr(grounding_module(), "_passage_forms", None)
    if cached is not None:
        cached.cache_clear()


def cpu_snapshot() -> tuple[float, float, float]:
    """(CPU-seconds used by the whole machine, by this process, stolen by the hypervisor) so far."""
    import psutil

    t, mine = psutil.cpu_times(), psutil.Process().cpu_times()
    busy = t.user + t.nice + t.system + t.irq + t.softirq
    return busy, mine.user + mine.system, getattr(t, "steal", 0.0)


def cpu_delta(start: tuple[float, float, float]) -> dict:
    """CPU-seconds since ``start``: this process (all its threads), every other process (Ray's
    processes when Ray is up, anything else running on the machine), and steal (a virtual
    machine's CPU time taken by its host)."""
    machine, own, steal = (b - a for a, b in zip(start, cpu_snapshot()))
    return {
        "this_process": round(own, 2),
        "other_processes": round(max(0.0, machine - own), 2),
        "steal": round(steal, 2),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ----------------------------------------------------------------------------- setup


def build_corpus(data_dir: Path, docs: int, work: Path, workers: int) -> dict:
    from jmedcorpus.pipelines.build import BuildOptions, build
    from jmedcorpus.recipe import load_recipe

    src = data_dir / "case_reports.jsonl"
    if not src.exists():
        sys.exit(f"bench_synth: missing {src} (use --data-dir)")
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)[:docs]
    inp = work / "input.jsonl"
    inp.write_text("".join(lines), encoding="utf-8")
    t = time.perf_counter()
    m = build(
        BuildOptions(
            inputs=[str(inp)],
            output=str(work / "corpus"),
            recipe=load_recipe(),
            workers=workers,
            progress=False,
        )
    )
    seconds = time.perf_counter() - t
    return {
        "input_docs": len(lines),
        "seconds": round(seconds, 2),
        "kept": m["counts"]["kept"],
        "removed": m["counts"]["removed"],
        "removed_by_step": {
            x.get("name", x.get("step")): x["removed"] for x in m["steps"] if x.get("removed")
        },
        "path": str(work / "corpus"),
    }


def select(corpus: str, recipe) -> tuple[list, dict]:
    """The passages ``synth`` will select (same functions as its Ray tasks, run here)."""
    from jmedcorpus.pipelines import synth_passages

    shards = synth_passages.input_shards([corpus])
    settings, seed = vars(recipe.passages), recipe.sampling.seed
    results = [synth_passages.select_in_shard(p, settings, seed) for p in shards]
    passages, skipped, stats = synth_passages.merge_selections(results, recipe.passages.n, seed)
    return passages, {**stats, "selected": len(passages), "skipped": skipped}


def make_recipe(args, model: str):
    from jmedcorpus.synth.config import load_synth_recipe
    from jmedcorpus.synth.engines.base import SamplingSettings

    r = load_synth_recipe()
    r.template = TEMPLATE
    r.engine.name, r.engine.model = "transformers", model
    r.engine.transformers = {"batch_size": args.batch_size, "device": "cpu"}
    r.sampling = SamplingSettings(temperature=0.0, max_tokens=args.max_tokens, seed=0)
    r.passages.n = args.n
    r.output.chunk_size = args.chunk_size
    return r


def build_model(path: Path, passages: list, memorize: bool) -> dict:
    sys.path.insert(0, str(REPO / "tests" / "synth"))
    from tiny_chat_model import build_tiny_chat_model

    from jmedcorpus.synth.prompts import load_template

    pairs = []
    by_key = {p.key: p for p in passages}
    if memorize and MEMORIZED_KEY in by_key:
        raw = {r["id"]: r["raw"] for r in read_jsonl(FIXTURE_OUTPUTS)}[MEMORIZED_OUTPUT]
        pairs = [(load_template(TEMPLATE).messages(by_key[MEMORIZED_KEY].text), raw)]
    t = time.perf_counter()
    with quiet():  # progress bars
        build_tiny_chat_model(path, memorize=pairs, steps=400)
    return {"seconds": round(time.perf_counter() - t, 2), "memorized": [MEMORIZED_KEY] if pairs else []}


def make_requests(passages: list, recipe) -> list:
    from jmedcorpus.synth.engines.base import Request, request_seed
    from jmedcorpus.synth.prompts import load_template

    template, s = load_template(recipe.template), recipe.sampling
    return [
        Request(p.key, tuple(template.messages(p.text)), s, request_seed(s.seed, p.key), template.schema)
        for p in passages
    ]


def chunked(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ----------------------------------------------------------------------------- engine and whole path


def chunk_run_class():
    """The class whose ``execute()`` generates, judges and writes the chunks of a run."""
    try:
        from jmedcorpus.pipelines.synth_chunks import ChunkRun
    except ImportError:  # before the chunk loop moved out of pipelines/synth.py
        from jmedcorpus.pipelines.synth import _Run as ChunkRun
    return ChunkRun


def engine_alone(engine, requests: list, chunk_size: int) -> dict:
    from jmedcorpus.synth.engines.base import Request, SamplingSettings

    warm = Request("warm-up", requests[0].messages, SamplingSettings(temperature=0.0, max_tokens=4), 0)
    list(engine.generate([warm]))
    completions = {}
    cpu = cpu_snapshot()
    t = time.perf_counter()
    for chunk in chunked(requests, chunk_size):
        for c in engine.generate(chunk):
            completions[c.key] = c
    seconds = time.perf_counter() - t
    tokens = sum(c.completion_tokens for c in completions.values())
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_delta(cpu),
        "prompts": len(completions),
        "generated_tokens": tokens,
        "prompt_tokens_median": statistics.median(c.prompt_tokens for c in completions.values()),
        "prompts_per_second": len(completions) / seconds,
        "generated_tokens_per_second": tokens / seconds,
        "ms_per_prompt": 1000 * seconds / len(completions),
        "finish_reasons": dict(Counter(str(c.finish_reason) for c in completions.values())),
        "completions": completions,
    }


def combine(runs: list[dict]) -> dict:
    """The engine-alone runs (one before and one after the whole path: the machine is noisy)
    as one: mean seconds, rates of the mean."""
    e = dict(runs[0])
    e["runs_seconds"] = [r["seconds"] for r in runs]
    e["runs_cpu_seconds"] = [r["cpu_seconds"] for r in runs]
    e["same_tokens_every_run"] = all(r["generated_tokens"] == e["generated_tokens"] for r in runs)
    e["seconds"] = statistics.mean(e["runs_seconds"])
    e["prompts_per_second"] = e["prompts"] / e["seconds"]
    e["generated_tokens_per_second"] = e["generated_tokens"] / e["seconds"]
    e["ms_per_prompt"] = 1000 * e["seconds"] / e["prompts"]
    for r in runs[1:]:
        r.pop("completions")
    return e


def whole_path(engine, recipe, corpus: str, bench_file: Path, out: Path, workers: int) -> dict:
    from jmedcorpus.pipelines import synth as synth_mod

    timed = {}
    cls = chunk_run_class()
    original = cls.execute

    def execute(self):
        cpu = cpu_snapshot()
        t = time.perf_counter()
        try:
            return original(self)
        finally:
            timed["seconds"] = time.perf_counter() - t
            timed["cpu_seconds"] = cpu_delta(cpu)

    cls.execute = execute
    try:
        t = time.perf_counter()
        m = synth_mod.synth(
            synth_mod.SynthOptions(
                inputs=[corpus],
                output=str(out),
                recipe=recipe,
                decontaminate_against=[str(bench_file)],
                workers=workers,
                progress=False,
                engine=engine,
            )
        )
        total = time.perf_counter() - t
    finally:
        cls.execute = original
    from jmedcorpus.pipelines.synth_passages import load_passages

    keys = [p.key for p in load_passages(str(out / ".work" / "passages.parquet"))]
    n = m["counts"]["passages"]
    return {
        "execute_seconds": timed["seconds"],
        "cpu_seconds": timed["cpu_seconds"],
        "synth_call_seconds": total,
        "prompts_per_second": n / timed["seconds"],
        "generated_tokens_per_second": m["throughput"]["generated_tokens"] / timed["seconds"],
        "ms_per_prompt": 1000 * timed["seconds"] / n,
        "manifest_throughput": m["throughput"],
        "counts": m["counts"],
        "passage_keys": keys,
    }


# ----------------------------------------------------------------------------- components


def realistic_outputs(passages: list, data_dir: Path, tokenizer) -> tuple[list, list]:
    """(passages, completions): one hand-written valid output per passage, in turn, each with a
    new question stem, judged against its passage + the case report it was written for."""
    from jmedcorpus.synth.engines.base import Completion
    from jmedcorpus.synth.parsing import parse_exam
    from jmedcorpus.synth.records import ExamItem

    fixture = [r for r in read_jsonl(FIXTURE_OUTPUTS) if r["kind"] == "exam" and r["expect"] == "accepted"]
    docs = {r["id"]: r["text"] for r in read_jsonl(data_dir / "case_reports.jsonl")}
    out_p, out_c = [], []
    for i, p in enumerate(passages):
        base = fixture[i % len(fixture)]
        item = parse_exam(base["raw"])
        assert isinstance(item, ExamItem), base["id"]
        lead = ""
        for s in SENTENCE_END.split(re.sub(r"[\s\"\\]", "", p.text)):
            if len(lead) >= 60 or (lead and len(lead) + len(s) > 200):
                break
            lead += s[:160]
        last = [s for s in SENTENCE_END.split(item.question) if s.strip()][-1]
        raw = base["raw"].replace(item.question, lead + last, 1)
        text = f"{p.text}\n{docs[base['passage_id']]}"
        ids = tokenizer(raw, add_special_tokens=False)["input_ids"]
        out_p.append(dataclasses.replace(p, text=text))
        out_c.append(Completion(p.key, raw, "stop", prompt_tokens=0, completion_tokens=len(ids) + 1))
    return out_p, out_c


def components(passages, completions, requests, recipe, engine, contamination, args, tmp: Path) -> dict:
    """ms per prompt of each piece of the pipeline's own work, timed alone (best of ``repeat``)."""
    import pyarrow as pa

    from jmedcorpus.io.parquet import atomic_write_json, atomic_write_table
    from jmedcorpus.synth import validation as val
    from jmedcorpus.synth.cache import RequestCache
    from jmedcorpus.synth.engines.base import Request, chat_prompt_ids, request_seed
    from jmedcorpus.synth.parsing import parse_exam
    from jmedcorpus.synth.prompts import load_template
    from jmedcorpus.synth.records import (
        ACCEPTED_SCHEMA,
        REJECTED_SCHEMA,
        ExamItem,
        Judge,
        Rejection,
        accepted_row,
        common_fields,
        rejected_row,
    )

    n, rep = len(passages), args.repeat
    template, s, v = load_template(recipe.template), recipe.sampling, recipe.validation
    g = v.grounding_min_overlap

    def new_judge():
        clear_passage_cache()
        return Judge(
            template.kind,
            near_duplicate_threshold=v.near_duplicate_threshold,
            grounding_min_overlap=g,
            contamination=contamination,
        )

    def prompts():
        for p in passages:
            r = Request(
                p.key, tuple(template.messages(p.text)), s, request_seed(s.seed, p.key), template.schema
            )
            r.cache_key(engine.model)

    def tokenize():
        for r in requests:
            chat_prompt_ids(engine.tokenizer, r.messages)

    keys = [r.cache_key(engine.model) for r in requests]
    counter = iter(range(10**6))

    def cache():
        c = RequestCache(str(tmp / f"cache-{next(counter)}"))
        for chunk in chunked(list(zip(keys, completions)), args.chunk_size):
            for k, comp in chunk:
                c.get(k, comp.key)
                c.put(k, comp)
            c.sync()
        c.close()

    judged = [c for c in completions if c.error is None and c.finish_reason != "length"]

    def parse():
        return [parse_exam(c.text or "") for c in judged]

    parsed = parse()
    by_key = {p.key: p for p in passages}
    items = [(by_key[c.key], x) for c, x in zip(judged, parsed) if isinstance(x, ExamItem)]
    grounding = val.GroundingCheck(min_answer_overlap=g, min_option_overlap=g, min_explanation_overlap=g)

    def validate():
        clear_passage_cache()
        dedup = val.NearDuplicateIndex(v.near_duplicate_threshold)
        return [
            val.validate_exam(x, p.text, dedup=dedup, contamination=contamination, grounding=grounding)
            for p, x in items
        ]

    def judge():
        j = new_judge()
        return [j.judge(p, c) for p, c in zip(passages, completions)]

    verdicts = judge()
    info = {
        "kind": template.kind,
        "model": engine.model,
        "engine": engine.name,
        "prompt_version": template.id,
        "sampling": s.as_dict(),
    }

    def write():
        d = tmp / f"out-{next(counter)}"
        triples = list(zip(passages, completions, verdicts))
        for i, chunk in enumerate(chunked(triples, args.chunk_size)):
            acc, rej = [], []
            for p, c, (item, reasons, detail) in chunk:
                common = common_fields(p, c, info, request_seed(s.seed, p.key))
                if reasons:
                    rej.append(rejected_row(c, reasons, detail, common))
                else:
                    acc.append(accepted_row(item, p, common))
            for rows, schema, path in (
                (rej, REJECTED_SCHEMA, d / "rejected" / f"part-{i:05d}.parquet"),
                (acc, ACCEPTED_SCHEMA, d / "data" / f"train-{i:05d}.parquet"),
            ):
                if rows:
                    table = pa.Table.from_pylist(rows, schema=schema)
                    atomic_write_table(table, str(path), recipe.output.compression)
            marker = {"passages": len(chunk), "accepted": len(acc), "rejected": len(rej)}
            atomic_write_json(marker, str(d / "chunks" / f"chunk-{i:05d}.json"))

    rows = {}
    for name, fn in (
        ("prompt_building", prompts),
        ("chat_template_tokenize", tokenize),
        ("request_cache", cache),
        ("parse", parse),
        ("validate", validate),
        ("judge", judge),
        ("write", write),
    ):
        rows[name] = 1000 * best_of(rep, fn)[0] / n
    rows["pipeline_overhead"] = sum(rows[k] for k in ("prompt_building", "request_cache", "judge", "write"))
    verdict_reasons = Counter(r[0] if r else "accepted" for _, r, _ in verdicts)
    result = {
        "ms_per_prompt": rows,
        "prompts": n,
        "parsed": len(judged),
        "exam_items": len(items),
        "outcome": dict(verdict_reasons.most_common()),
        "parse_rejections": dict(Counter(x.reason for x in parsed if isinstance(x, Rejection)).most_common()),
    }
    if len(items) >= n // 2:
        result["validation_breakdown_ms_per_item"] = breakdown(items, contamination, v, args)
    return result


def breakdown(items, contamination, v, args) -> dict:
    """ms per exam item of each check of ``validate_exam``, timed alone."""
    import numpy as np

    from jmedcorpus.synth import validation as val

    g = v.grounding_min_overlap
    lengths, language = val.LengthCheck(), val.LanguageCheck()
    grounding = val.GroundingCheck(min_answer_overlap=g, min_option_overlap=g, min_explanation_overlap=g)
    texts = [val.exam_text(x) for _, x in items]

    def grounding_fn():
        clear_passage_cache()
        for p, x in items:
            grounding.exam(x, p.text)

    def dedup_fn(prefill: int = 0):
        index = val.NearDuplicateIndex(v.near_duplicate_threshold)
        if prefill:  # random signatures of ``prefill`` accepted items (none of them a match)
            rng = np.random.default_rng(0)
            index._sigs = rng.integers(0, 2**32 - 1, size=(prefill + len(texts), 128), dtype=np.uint32)
            index._count = prefill
        for t in texts:
            if not index.is_duplicate(t):
                index.add(t)
        return len(index) - prefill

    checks = {
        "length": lambda: [lengths.exam(x) for _, x in items],
        "language_fasttext": lambda: [
            (language.text(x.question), language.options(x.options), language.text(x.explanation))
            for _, x in items
        ],
        "grounding_mecab": grounding_fn,
        "contamination_mecab_ngrams": lambda: [
            (contamination.contaminated(x.question), contamination.contaminated(t))
            for (_, x), t in zip(items, texts)
        ],
        "near_duplicate_minhash": dedup_fn,
    }
    out = {name: 1000 * best_of(args.repeat, fn)[0] / len(items) for name, fn in checks.items()}
    _, added = best_of(args.repeat, dedup_fn)
    out["near_duplicate_index_size_at_end"] = added
    big = args.dedup_index
    if big:
        out[f"near_duplicate_vs_{big}_items"] = (
            1000 * best_of(args.repeat, lambda: dedup_fn(big))[0] / len(items)
        )
    return out


# ----------------------------------------------------------------------------- report


def fmt(x, digits: int = 2) -> str:
    return "" if x is None else f"{x:,.{digits}f}"


def report(res: dict) -> str:
    e, w, setup = res["engine_alone"], res["whole_path"], res["setup"]
    mt, s = w["manifest_throughput"], res["summary"]
    model = f"tiny Llama, 2 layers, {setup['model_params'] / 1e6:.2f}M params, CPU"
    lines = [
        f"## bench_synth ({setup['machine']})",
        "",
        "| corpus docs in | passages | model | prompt tokens (median) | max_tokens | batch | chunk | torch threads |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        row(
            setup["corpus"]["input_docs"],
            setup["passages"],
            model,
            f"{e['prompt_tokens_median']:.0f}",
            setup["max_tokens"],
            setup["batch_size"],
            setup["chunk_size"],
            setup["torch_threads"],
        ),
        "",
        "| run | seconds | prompts/s | generated tokens/s | ms/prompt | CPU-s this process / other processes / steal |",
        "| --- | --- | --- | --- | --- | --- |",
        row(
            "engine alone (`engine.generate`, chunk by chunk; mean of a run before and one after the whole "
            f"path: {', '.join(f'{x:.2f}' for x in e['runs_seconds'])} s)",
            f"{e['seconds']:.2f}",
            f"{e['prompts_per_second']:.2f}",
            f"{e['generated_tokens_per_second']:,.0f}",
            f"{e['ms_per_prompt']:.2f}",
            "; ".join(cpu_cell(c) for c in e["runs_cpu_seconds"]),
        ),
        row(
            "whole path: generate + judge + write (`ChunkRun.execute`, this script's clock)",
            f"{w['execute_seconds']:.2f}",
            f"{w['prompts_per_second']:.2f}",
            f"{w['generated_tokens_per_second']:,.0f}",
            f"{w['ms_per_prompt']:.2f}",
            cpu_cell(w["cpu_seconds"]),
        ),
        row(
            "whole path, manifest `engine_seconds` (engine thread, judging alongside)",
            f"{mt['engine_seconds']:.2f}",
            fmt(mt["prompts_per_second"]),
            fmt(mt["generated_tokens_per_second"], 0),
            "",
        ),
        row(
            "`synth()` call (+ Ray start, passage stage, manifest)",
            f"{w['synth_call_seconds']:.2f}",
            "",
            "",
            "",
        ),
        "",
        f"Per-prompt costs of the pipeline's own work, each timed alone (best of {setup['repeat']}), ms per prompt:",
        "",
        "| component | tiny model outputs | realistic valid outputs |",
        "| --- | --- | --- |",
    ]
    t, r = res["components"]["tiny"], res["components"]["realistic"]
    names = {
        "prompt_building": "prompt building (messages + Request + cache_key)",
        "chat_template_tokenize": "chat template + tokenize (`chat_prompt_ids`; in the engine's time)",
        "request_cache": "request cache (get + put + fsync per chunk)",
        "parse": "parse (`parse_exam`)",
        "validate": "validate (`validate_exam`, with contamination)",
        "judge": "judge (`Judge.judge` = finish check + parse + validate)",
        "write": "write (rows + Parquet + chunk marker)",
        "pipeline_overhead": "**pipeline overhead** = prompt building + cache + judge + write",
    }
    for k, label in names.items():
        lines.append(row(label, f"{t['ms_per_prompt'][k]:.3f}", f"{r['ms_per_prompt'][k]:.3f}"))
    lines.append(
        row(
            "outputs parsed / exam items validated",
            f"{t['parsed']} / {t['exam_items']}",
            f"{r['parsed']} / {r['exam_items']}",
        )
    )
    lines.append(row("outcome", fmt_counts(t["outcome"]), fmt_counts(r["outcome"])))
    b = r.get("validation_breakdown_ms_per_item")
    if b:
        lines += ["", "Validation of the realistic items by check, ms per item:", ""]
        lines += ["| check | ms/item |", "| --- | --- |"]
        lines += [row(k, f"{x:,}" if "size" in k else f"{x:,.3f}") for k, x in b.items()]
    per_prompt_diff = 1000 * (w["execute_seconds"] - e["seconds"]) / setup["passages"]
    ref = REFERENCE_PROMPTS_PER_S
    notes = [
        (
            f"contamination index (`{setup['decontaminate_against']}`, field `text`): "
            f"{setup['contamination_ngrams']:,} n-grams, built in {setup['contamination_index_seconds']:.2f} s "
            "(once per run)"
        ),
        (
            "first-call loading of fastText + MeCab in this process: "
            f"{setup['validation_warmup_seconds']:.2f} s (once per run, done before the timed runs)"
        ),
        (
            "manifest `pipeline_ms_per_prompt` (prompt building + judge/write, measured inside the run): "
            f"{fmt(mt['pipeline_ms_per_prompt'], 3)} ms; `pipeline_seconds` {mt['pipeline_seconds']}"
        ),
        (
            f"**ratio whole path / engine alone (prompts/s): {s['ratio']:.3f}**; overhead (whole path - engine "
            f"alone) / engine alone = **{100 * s['overhead_fraction']:+.1f} %** ({per_prompt_diff:+.2f} ms/prompt)"
        ),
        (
            f"engine alone {e['ms_per_prompt']:.2f} ms/prompt; pipeline overhead {s['overhead_ms_tiny']:.2f} "
            f"ms/prompt on the tiny model's outputs, {s['overhead_ms_realistic']:.2f} ms/prompt on realistic "
            "valid outputs"
        ),
        (
            f"at {ref:.0f} prompts/s (a 7-8B model with vLLM on one H100 gives roughly 20-50) the realistic "
            f"overhead, run serially, would be {s['overhead_ms_realistic']:.2f} x {ref:.0f} / 1000 = "
            f"**{100 * s['overhead_at_reference']:.1f} %** of the engine time. In `synth` the engine runs one "
            "chunk ahead in a background thread, so judging overlaps generation: the overhead is hidden "
            f"while it stays below the engine's {1000 / ref:.0f} ms/prompt (and the main thread has a core)"
        ),
        "the tiny CPU model's speed is not representative; the pipeline's own ms/prompt is what carries over",
    ]
    if "dedup_index_items" in s:
        notes.append(
            f"the near-duplicate check compares each item with the accepted ones sharing a MinHash band: with "
            f"{s['dedup_index_items']:,} items already accepted, the realistic overhead becomes "
            f"{s['overhead_ms_realistic_at_dedup_index']:.2f} ms/prompt, "
            f"{100 * s['overhead_at_reference_at_dedup_index']:.1f} % at {ref:.0f} prompts/s"
        )
    notes += [
        (
            f"same passages as `synth` selected: {s['same_passages']}; same generated tokens as the engine "
            f"alone: {s['same_tokens']} ({e['generated_tokens']:,}); whole path: accepted "
            f"{w['counts']['accepted']}, rejected {w['counts']['rejected']} "
            f"({fmt_counts(w['counts']['rejected_by_reason'])})"
        ),
        f"peak RSS of this process: {res['peak_rss_mb']:.0f} MB (Ray worker processes not included)",
    ]
    return "\n".join([*lines, "", *(f"- {x}" for x in notes)])


def cpu_cell(c: dict) -> str:
    return f"{c['this_process']:.1f} / {c['other_processes']:.1f} / {c['steal']:.1f}"


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def fmt_counts(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument(
        "--docs", type=int, default=300, help="case reports to build the corpus from (default 300)"
    )
    ap.add_argument("-n", type=int, default=200, help="passages to generate from (default 200)")
    ap.add_argument(
        "--max-tokens",
        type=int,
        default=128,
        help="sampling max_tokens (default 128: the memorized item is 97 tokens, so it completes)",
    )
    ap.add_argument("--batch-size", type=int, default=8, help="transformers engine batch_size (default 8)")
    ap.add_argument("--chunk-size", type=int, default=50, help="output.chunk_size (default 50; recipe: 500)")
    ap.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="Ray workers of build and synth (default 2)")
    ap.add_argument("--repeat", type=int, default=3, help="component timings: best of this many (default 3)")
    ap.add_argument(
        "--dedup-index",
        type=int,
        default=100_000,
        help="also time the near-duplicate check against this many accepted items (default 100000; 0: skip)",
    )
    ap.add_argument("--no-memorize", action="store_true", help="do not train the tiny model on a valid item")
    ap.add_argument("--workdir", type=Path, help="work here (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(args.torch_threads)
    bench_file = args.data_dir / "igakuqa_2018_2022_ja.jsonl"
    if not bench_file.exists():
        sys.exit(f"bench_synth: missing {bench_file} (use --data-dir)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_synth-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        res = run(args, work, bench_file)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def run(args, work: Path, bench_file: Path) -> dict:
    import torch

    from jmedcorpus.synth.engines.transformers_engine import TransformersEngine
    from jmedcorpus.synth.validation import ContaminationIndex, LanguageCheck

    log(f"building the corpus from {args.docs} case reports")
    corpus = build_corpus(args.data_dir, args.docs, work, args.workers)
    model_dir = work / "model"
    recipe = make_recipe(args, str(model_dir))
    passages, selection = select(corpus["path"], recipe)
    log(f"{len(passages)} passages; building the tiny model")
    model = build_model(model_dir, passages, not args.no_memorize)
    recipe.check()
    with quiet():  # weight-loading bar
        engine = TransformersEngine(str(model_dir), device="cpu", batch_size=args.batch_size)
    requests = make_requests(passages, recipe)
    t = time.perf_counter()
    LanguageCheck().text("症例は70歳の男性。")  # loads fastText lid.176
    grounding_module().content_words("症例は70歳の男性。")  # loads MeCab
    warmup = time.perf_counter() - t

    log("engine alone (1 of 2)")
    runs = [engine_alone(engine, requests, args.chunk_size)]
    log("whole path (synth)")
    w = whole_path(engine, recipe, corpus["path"], bench_file, work / "synth-out", args.workers)
    log("engine alone (2 of 2)")
    runs.append(engine_alone(engine, requests, args.chunk_size))
    e = combine(runs)

    log("components")
    v = recipe.validation
    t = time.perf_counter()
    contamination = ContaminationIndex.from_jsonl(
        str(bench_file),
        v.contamination_field,
        v.contamination_ngram,
        min_fraction=v.contamination_min_fraction,
    )
    contamination_seconds = time.perf_counter() - t
    tiny_completions = [e["completions"][p.key] for p in passages]
    comps = {
        "tiny": components(
            passages, tiny_completions, requests, recipe, engine, contamination, args, work / "c1"
        )
    }
    real_p, real_c = realistic_outputs(passages, args.data_dir, engine.tokenizer)
    comps["realistic"] = components(
        real_p, real_c, requests, recipe, engine, contamination, args, work / "c2"
    )

    n = len(passages)
    overhead_tiny = comps["tiny"]["ms_per_prompt"]["pipeline_overhead"]
    overhead_real = comps["realistic"]["ms_per_prompt"]["pipeline_overhead"]
    summary = {
        "ratio": w["prompts_per_second"] / e["prompts_per_second"],
        "overhead_fraction": (w["execute_seconds"] - e["seconds"]) / e["seconds"],
        "overhead_ms_tiny": overhead_tiny,
        "overhead_ms_realistic": overhead_real,
        "engine_ms_per_prompt": e["ms_per_prompt"],
        "reference_prompts_per_second": REFERENCE_PROMPTS_PER_S,
        "overhead_at_reference": overhead_real * REFERENCE_PROMPTS_PER_S / 1000,
        "overhead_at_reference_tiny_outputs": overhead_tiny * REFERENCE_PROMPTS_PER_S / 1000,
        "same_passages": w.pop("passage_keys") == [p.key for p in passages],
        "same_tokens": w["manifest_throughput"]["generated_tokens"] == e["generated_tokens"]
        and e["same_tokens_every_run"],
    }
    b = comps["realistic"].get("validation_breakdown_ms_per_item", {})
    big = f"near_duplicate_vs_{args.dedup_index}_items"
    if big in b:
        at_big = overhead_real - b["near_duplicate_minhash"] + b[big]
        summary["dedup_index_items"] = args.dedup_index
        summary["overhead_ms_realistic_at_dedup_index"] = at_big
        summary["overhead_at_reference_at_dedup_index"] = at_big * REFERENCE_PROMPTS_PER_S / 1000
    e.pop("completions")
    return {
        "setup": {
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}, "
            f"torch {torch.__version__}",
            "corpus": corpus,
            "selection": selection,
            "passages": n,
            "model": model,
            "model_params": sum(x.numel() for x in engine._model.parameters()),
            "template": TEMPLATE,
            "max_tokens": args.max_tokens,
            "batch_size": args.batch_size,
            "chunk_size": args.chunk_size,
            "torch_threads": args.torch_threads,
            "repeat": args.repeat,
            "decontaminate_against": bench_file.name,
            "contamination_ngrams": len(contamination),
            "contamination_index_seconds": contamination_seconds,
            "validation_warmup_seconds": warmup,
        },
        "engine_alone": e,
        "whole_path": w,
        "components": comps,
        "summary": summary,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    main()
