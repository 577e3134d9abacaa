"""``jmedcorpus synth``: the driver.

1. **passages**: one Ray task per input shard cuts documents into passages and keeps the best
   ranked eligible ones (:mod:`jmedcorpus.pipelines.synth_passages`); the selection is saved in
   ``OUT/.work/passages.parquet``, so a resumed run asks the same questions.
2. **generate**: the selected passages, sorted by (document, passage), are cut into chunks of
   ``output.chunk_size``. A background thread sends each chunk's requests to the engine (those
   not already in the request cache, :mod:`jmedcorpus.synth.cache`) while the main thread judges
   and writes the chunk before: the engine never waits for parsing and validation.
3. **judge and write**, in chunk order: each completion is accepted or rejected with reasons
   (:class:`jmedcorpus.synth.records.Judge`), then ``OUT/rejected/part-XXXXX.parquet`` and
   ``OUT/data/train-XXXXX-of-YYYYY.parquet`` are written atomically and a chunk marker last.
   A passage belongs to exactly one chunk and a chunk is written once, so a killed run re-run
   with the same command writes no passage twice and re-sends nothing it already received.
4. **manifest**: counts per reason, throughput of this run, the settings, versions. Written last
   (deleted when a run starts): an output with a ``manifest.json`` is complete.

``selected passages = accepted + rejected``, always (checked before the manifest is written).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from jmedcorpus import __version__
from jmedcorpus.errors import UserError
from jmedcorpus.io.parquet import atomic_write_json, atomic_write_table, remove_temporaries
from jmedcorpus.pipelines import synth_passages
from jmedcorpus.pipelines.build import MANIFEST, OWNER_MARKER, BuildFailed, _check_output_dir
from jmedcorpus.pipelines.ray_tasks import ray_runtime, run_tasks
from jmedcorpus.synth.cache import RequestCache
from jmedcorpus.synth.config import SynthRecipe
from jmedcorpus.synth.contamination import ContaminationIndex
from jmedcorpus.synth.engines.base import Engine, Request, request_seed
from jmedcorpus.synth.prompts import load_template
from jmedcorpus.synth.records import (
    ACCEPTED_SCHEMA,
    REJECTED_SCHEMA,
    Judge,
    accepted_row,
    common_fields,
    rejected_row,
)


@dataclass
class SynthOptions:
    inputs: list[str]
    output: str
    recipe: SynthRecipe
    decontaminate_against: list[str] = field(default_factory=list)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    ray_address: str | None = None
    progress: bool = True
    retry_errors: bool = False  # redo chunks that had engine errors (served requests come from the cache)
    engine: Engine | None = None  # an engine already built (tests, benchmarks); else from the recipe


def _file_stamp(path: str) -> list:
    return [path, os.path.getsize(path), os.stat(path).st_mtime_ns]


def _fingerprint(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _settings_fingerprint(recipe: SynthRecipe, shards: list[str], bench_files: list[str]) -> tuple[str, dict]:
    """What decides the output. Engine name and options (concurrency, timeouts, GPUs) do not:
    the same model served another way may finish a run."""
    resolved = recipe.to_dict()
    decisive = {
        "template": resolved["template"],
        "model": resolved["engine"]["model"],
        "sampling": resolved["sampling"],
        "passages": resolved["passages"],
        "validation": resolved["validation"],
        "chunk_size": resolved["output"]["chunk_size"],
        "inputs": [_file_stamp(p) for p in shards],
        "decontaminate_against": [_file_stamp(p) for p in bench_files],
    }
    return _fingerprint(decisive), decisive


def _contamination(paths: list[str], recipe: SynthRecipe) -> ContaminationIndex | None:
    """One index over every ``--decontaminate-against`` file (JSONL, one benchmark item per line)."""
    if not paths:
        return None
    import numpy as np

    v = recipe.validation
    hashes = []
    for path in paths:
        if not os.path.isfile(path):
            raise UserError(f"--decontaminate-against {path}: no such file; give a JSONL benchmark file")
        try:
            index = ContaminationIndex.from_jsonl(path, v.contamination_field, v.contamination_ngram)
        except ValueError as e:  # names the line, never its text
            raise UserError(
                f"--decontaminate-against {e}; set validation.contamination_field to the field holding the question"
            ) from None
        hashes.append(index.hashes)
    return ContaminationIndex(
        np.concatenate(hashes), n=v.contamination_ngram, min_fraction=v.contamination_min_fraction
    )


def synth(opts: SynthOptions) -> dict:
    """Run ``synth``; returns the manifest. Raises UserError (bad input) or BuildFailed."""
    started = time.time()
    recipe, out = opts.recipe.check(), os.path.abspath(opts.output)
    template = load_template(recipe.template)
    _check_output_dir(out)
    shards = synth_passages.input_shards(opts.inputs)
    bench_files = [os.path.abspath(p) for p in opts.decontaminate_against]
    fp, decisive = _settings_fingerprint(recipe, shards, bench_files)
    work = os.path.join(out, ".work")
    settings_path = os.path.join(work, "settings.json")
    if os.path.exists(settings_path):
        with open(settings_path, encoding="utf-8") as f:
            previous = json.load(f)
        if previous.get("fingerprint") != fp:
            changed = sorted(k for k in decisive if previous.get("settings", {}).get(k) != decisive[k])
            raise UserError(
                f"--output {opts.output} holds synth output made with other settings (changed: "
                f"{', '.join(changed) or 'version'}); use a new --output, or delete it to start over"
            )
    contamination = _contamination(bench_files, recipe)
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(out, OWNER_MARKER), "w", encoding="utf-8") as f:
        f.write("written by jmedcorpus synth; its presence lets a re-run reuse this directory\n")
    remove_temporaries(out)
    atomic_write_json({"fingerprint": fp, "settings": decisive}, settings_path)
    manifest_path = os.path.join(out, MANIFEST)
    if os.path.exists(manifest_path):
        os.remove(manifest_path)

    with ray_runtime(opts.workers, opts.ray_address):
        passages, selection = _passages(opts, recipe, shards, work)
        chunk_size = recipe.output.chunk_size
        chunks = [passages[i : i + chunk_size] for i in range(0, len(passages), chunk_size)]
        engine = opts.engine or _engine(recipe)
        try:
            run = _Run(opts, recipe, template, engine, contamination, out, chunks)
            run.execute()
        finally:
            if opts.engine is None:
                engine.close()
    manifest = run.manifest(selection, fp, started)
    atomic_write_json(manifest, manifest_path)
    return manifest


def _engine(recipe: SynthRecipe) -> Engine:
    from jmedcorpus.synth.engines import make_engine

    return make_engine(recipe.engine.name, recipe.engine.model, recipe.engine.options)


def _passages(opts: SynthOptions, recipe: SynthRecipe, shards: list[str], work: str):
    path, meta_path = os.path.join(work, "passages.parquet"), os.path.join(work, "selection.json")
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            return synth_passages.load_passages(path), json.load(f)
    settings, seed = vars(recipe.passages), recipe.sampling.seed
    calls = [(p, (p, settings, seed)) for p in shards]
    results, failures = run_tasks(
        synth_passages.select_in_shard, calls, limit=opts.workers, desc="passages", progress=opts.progress
    )
    problems = [r["error"] for r in results.values() if "error" in r]
    if problems:
        raise UserError(f"--input {problems[0]}; --text-field/--id-field name the columns")
    if failures:
        raise BuildFailed(
            "synth failed: passage tasks failed: " + "; ".join(f"{f.label}: {f.error}" for f in failures)
        )
    passages, skipped, stats = synth_passages.merge_selections(
        [results[p] for p in shards], recipe.passages.n, seed
    )
    selection = {**stats, "selected": len(passages), "skipped": skipped}
    synth_passages.save_passages(passages, path)
    atomic_write_json(selection, meta_path)
    return passages, selection


class _Run:
    """Generation, judging and writing of the chunks (see the module docstring)."""

    def __init__(self, opts, recipe, template, engine, contamination, out, chunks):
        self.opts, self.recipe, self.template, self.engine, self.out = opts, recipe, template, engine, out
        self.chunks = chunks
        self.judge = Judge(
            template.kind,
            near_duplicate_threshold=recipe.validation.near_duplicate_threshold,
            grounding_min_overlap=recipe.validation.grounding_min_overlap,
            contamination=contamination,
        )
        self.info = {
            "kind": template.kind,
            "model": engine.model,
            "engine": engine.name,
            "prompt_version": template.id,
            "sampling": recipe.sampling.as_dict(),
        }
        self.markers = os.path.join(out, ".work", "chunks")
        self.totals: Counter = Counter()
        self.engine_spans: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self.judge_seconds = 0.0
        self.prompt_seconds = 0.0

    @staticmethod
    def shard_name(i: int) -> str:
        """The data file of chunk ``i``; a chunk with no accepted item has none (``datasets``
        cannot read a Parquet file without rows), so the numbers may have gaps."""
        return f"train-{i:05d}.parquet"

    def _marker(self, i: int) -> dict | None:
        path = os.path.join(self.markers, f"chunk-{i:05d}.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def execute(self) -> None:
        pending = []
        self.done: dict[int, dict] = {}
        for i in range(len(self.chunks)):
            marker = self._marker(i)
            if marker is None or (self.opts.retry_errors and marker["engine_errors"]):
                pending.append(i)
            else:
                self.done[i] = marker
                if marker["accepted"]:
                    table = pq.read_table(os.path.join(self.out, "data", self.shard_name(i)))
                    for row in table.select(["question", "options", "answer"]).to_pylist():
                        self.judge.remember(row)
        total = sum(len(c) for c in self.chunks)
        self.bar = tqdm(
            total=total,
            initial=sum(len(self.chunks[i]) for i in self.done),
            desc="synth",
            unit="passage",
            disable=not self.opts.progress,
        )
        self.cache = RequestCache(self.out)
        try:
            self._pipeline(pending)
        finally:
            self.bar.close()
            self.cache.close()

    def _requests(self, chunk) -> list[Request]:
        t = time.perf_counter()
        s = self.recipe.sampling
        reqs = [
            Request(
                p.key,
                tuple(self.template.messages(p.text)),
                s,
                request_seed(s.seed, p.key),
                self.template.schema,
            )
            for p in chunk
        ]
        with self._lock:
            self.prompt_seconds += time.perf_counter() - t
        return reqs

    def _generate(self, chunk) -> dict:
        """Completions of one chunk by passage key: from the cache, else from the engine (runs in
        an engine thread)."""
        completions, missing, keys = {}, [], {}
        for r in self._requests(chunk):
            keys[r.key] = r.cache_key(self.engine.model)
            hit = self.cache.get(keys[r.key], r.key)
            if hit is None:
                missing.append(r)
            else:
                completions[r.key] = hit
        self.bar.update(len(chunk) - len(missing))
        start = time.perf_counter()
        for c in self.engine.generate(missing):
            self.cache.put(keys[c.key], c)
            completions[c.key] = c
            with self._lock:
                self.totals["sent"] += 1
                self.totals["generated_tokens"] += c.completion_tokens
                self.totals["attempts"] += c.attempts
            self.bar.update(1)
        with self._lock:
            self.totals["cached"] += len(chunk) - len(missing)
            if missing:
                self.engine_spans.append((start, time.perf_counter()))
        self.cache.sync()
        if set(completions) != {p.key for p in chunk}:
            raise BuildFailed(
                f"synth failed: engine {self.engine.name} returned the wrong set of completions"
            )
        return completions

    def _pipeline(self, pending: list[int]) -> None:
        """Generate up to ``engine.concurrent_calls`` chunks at once in engine threads (so a
        multi-GPU engine is never idle at a chunk's tail) while the main thread judges and
        writes finished chunks, in chunk order (the near-duplicate index depends on order)."""
        lanes = max(1, int(getattr(self.engine, "concurrent_calls", 1)))
        pool = ThreadPoolExecutor(lanes, thread_name_prefix="synth-engine")
        futures: dict = {}
        upcoming = iter(pending)

        def fill() -> None:
            while len(futures) < lanes + 1:  # one more queued: ready when a lane frees up
                i = next(upcoming, None)
                if i is None:
                    return
                futures[i] = pool.submit(self._generate, self.chunks[i])

        try:
            fill()
            for i in pending:
                completions = futures.pop(i).result()  # an engine that became unusable raises here
                fill()
                self.done[i] = self._write_chunk(i, completions)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def engine_seconds(self) -> float:
        """Wall time during which at least one engine call was running (overlaps counted once)."""
        total, end = 0.0, float("-inf")
        for a, b in sorted(self.engine_spans):
            if b > end:
                total += b - max(a, end)
                end = b
        return total

    def _write_chunk(self, i: int, completions: dict) -> dict:
        t = time.perf_counter()
        accepted, rejected = [], []
        for p in self.chunks[i]:
            c = completions[p.key]
            item, reasons, detail = self.judge.judge(p, c)
            common = common_fields(p, c, self.info, request_seed(self.recipe.sampling.seed, p.key))
            if reasons:
                rejected.append(rejected_row(c, reasons, detail, common))
            else:
                accepted.append(accepted_row(item, p, common))
        for rows, schema, path in (
            (rejected, REJECTED_SCHEMA, os.path.join(self.out, "rejected", f"part-{i:05d}.parquet")),
            (accepted, ACCEPTED_SCHEMA, os.path.join(self.out, "data", self.shard_name(i))),
        ):
            if rows:
                atomic_write_table(
                    pa.Table.from_pylist(rows, schema=schema), path, self.recipe.output.compression
                )
            elif os.path.exists(path):  # from a run of this chunk that --retry-errors redoes
                os.remove(path)
        marker = {
            "passages": len(self.chunks[i]),
            "accepted": len(accepted),
            "rejected": len(rejected),
            "reasons": dict(Counter(r["reason"] for r in rejected)),
            "all_reasons": dict(Counter(x for r in rejected for x in r["reasons"])),
            "engine_errors": sum(1 for c in completions.values() if c.error),
            "generated_tokens": sum(c.completion_tokens for c in completions.values()),
        }
        atomic_write_json(marker, os.path.join(self.markers, f"chunk-{i:05d}.json"))
        self.judge_seconds += time.perf_counter() - t
        acc = sum(m["accepted"] for m in self.done.values()) + len(accepted)
        rej = sum(m["rejected"] for m in self.done.values()) + len(rejected)
        seconds = self.engine_seconds()
        rate = self.totals["generated_tokens"] / seconds if seconds else 0.0
        self.bar.set_postfix(accepted=acc, rejected=rej, tok_s=f"{rate:.0f}", refresh=True)
        return marker

    def manifest(self, selection: dict, fp: str, started: float) -> dict:
        from jmedcorpus.versions import versions

        reasons, all_reasons = Counter(), Counter()
        for m in self.done.values():
            reasons.update(m["reasons"])
            all_reasons.update(m["all_reasons"])
        accepted = sum(m["accepted"] for m in self.done.values())
        rejected = sum(m["rejected"] for m in self.done.values())
        if accepted + rejected != selection["selected"]:
            raise BuildFailed(
                f"synth failed: accounting mismatch: {selection['selected']} passages != "
                f"{accepted} accepted + {rejected} rejected"
            )
        t, engine_seconds = self.totals, self.engine_seconds()
        overhead = self.prompt_seconds + self.judge_seconds
        return {
            "jmedcorpus_version": __version__,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "fingerprint": fp,
            "command": sys.argv,
            "recipe_file": self.recipe.source,
            "recipe": self.recipe.to_dict(),
            "engine": self.engine.describe(),
            "prompt_version": self.template.id,
            "versions": {**versions(), **_engine_versions()},
            "decontaminate_against": self.opts.decontaminate_against,
            "selection": selection,
            "counts": {
                "passages": selection["selected"],
                "accepted": accepted,
                "rejected": rejected,
                "rejected_by_reason": dict(reasons.most_common()),
                "reasons_found": dict(all_reasons.most_common()),
                "engine_errors": sum(m["engine_errors"] for m in self.done.values()),
            },
            "throughput": {
                "requests_sent": t["sent"],
                "requests_from_cache": t["cached"],
                "http_or_engine_attempts": t["attempts"],
                "generated_tokens": t["generated_tokens"],
                "engine_seconds": round(engine_seconds, 3),
                "prompts_per_second": round(t["sent"] / engine_seconds, 3) if engine_seconds else None,
                "generated_tokens_per_second": (
                    round(t["generated_tokens"] / engine_seconds, 1) if engine_seconds else None
                ),
                "pipeline_seconds": round(overhead, 3),
                "pipeline_ms_per_prompt": (
                    round(1000 * overhead / max(1, t["sent"] + t["cached"]), 3)
                    if t["sent"] + t["cached"]
                    else None
                ),
                "wall_seconds": round(time.time() - started, 3),
            },
            "shards": [
                {"file": self.shard_name(i), "rows": self.done[i]["accepted"]}
                for i in range(len(self.chunks))
                if self.done[i]["accepted"]
            ],
        }


def _engine_versions() -> dict:
    from importlib import metadata

    out = {}
    for name in ("torch", "transformers", "vllm"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out
