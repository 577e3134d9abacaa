"""The chunks of a ``jmedcorpus synth`` run: generated in engine threads, judged and written in
order, resumable (see :mod:`jmedcorpus.pipelines.synth` for the whole flow).

A chunk's files appear atomically (``rejected/part-NNNNN.parquet``, ``data/train-NNNNN.parquet``)
and then its marker ``.work/chunks/chunk-NNNNN.json``; a chunk with a marker is never written
again (unless ``--retry-errors`` redoes it because the engine failed some of its requests).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from jmedcorpus import __version__
from jmedcorpus.io.parquet import atomic_write_json, atomic_write_table
from jmedcorpus.pipelines.build import BuildFailed
from jmedcorpus.synth.cache import RequestCache
from jmedcorpus.synth.engines.base import Request, request_seed
from jmedcorpus.synth.records import (
    ACCEPTED_SCHEMA,
    REJECTED_SCHEMA,
    Judge,
    accepted_row,
    common_fields,
    rejected_row,
)


class ChunkRun:
    """Generation, judging and writing of the chunks of one ``synth`` run, and its manifest."""

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
