"""The chunks of a ``jmedcorpus synth`` run: generated in engine threads, judged and written in
order, resumable (see :mod:`jmedcorpus.pipelines.synth` for the whole flow).

A chunk's files appear atomically (``rejected/part-NNNNN.parquet``, ``data/train-NNNNN.parquet``)
and then its marker ``.work/chunks/chunk-NNNNN.json``; a chunk with a marker is never written
again (unless ``--retry-errors`` redoes it because the engine failed some of its requests).

With model checks (:mod:`jmedcorpus.synth.model_checks`), judging a chunk is three steps: the
rules on every completion, one batch of check requests for the items that passed (sent from
the main thread while the engine threads generate the next chunks; an engine is never given
more calls at once than its ``concurrent_calls``), then the decisions in passage order.
Every request, generation or check, goes through :meth:`ChunkRun.serve`: the request cache,
the engine, the throughput counts.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from jmedcorpus.errors import RunFailed
from jmedcorpus.io.parquet import atomic_write_json, atomic_write_table
from jmedcorpus.synth.cache import RequestCache
from jmedcorpus.synth.engines.base import Engine, Request, request_seed
from jmedcorpus.synth.model_checks import ModelChecks, tally
from jmedcorpus.synth.records import (
    ACCEPTED_SCHEMA,
    REJECTED_SCHEMA,
    Judge,
    accepted_row,
    common_fields,
    rejected_row,
)


class ChunkRun:
    """Generation, judging and writing of the chunks of one ``synth`` run, and its manifest.

    ``checks`` are the model checks (None: off) and ``judge_engine`` the engine of the judge
    (None: the generation engine); ``master`` the EHR template's master; ``messages_of`` turns a
    passage into its prompt messages (default: the template with the passage text).
    """

    def __init__(
        self,
        opts,
        recipe,
        template,
        engine,
        contamination,
        out,
        chunks,
        *,
        checks: ModelChecks | None = None,
        judge_engine: Engine | None = None,
        master=None,
        messages_of: Callable | None = None,
    ):
        self.opts, self.recipe, self.template, self.engine, self.out = opts, recipe, template, engine, out
        self.chunks = chunks
        self.checks = checks if checks is not None and checks.enabled else None
        self.judge_engine = judge_engine or engine
        self.messages_of = messages_of or (lambda p: self.template.messages(p.text))
        self.judge = Judge(
            template.kind,
            near_duplicate_threshold=recipe.validation.near_duplicate_threshold,
            grounding_min_overlap=recipe.validation.grounding_min_overlap,
            contamination=contamination,
            master=master,
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
        # an engine takes at most concurrent_calls generate() calls at once, from any thread
        self._slots = {
            id(e): threading.BoundedSemaphore(max(1, int(getattr(e, "concurrent_calls", 1))))
            for e in (engine, self.judge_engine)
        }
        self.judge_seconds = 0.0
        self.prompt_seconds = 0.0
        self.check_seconds = 0.0  # the model checks' own code: requests, cache, verdicts (no engine time)
        self.checked_items = 0  # items the model checks ran on, in this run

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
            Request(p.key, tuple(self.messages_of(p)), s, request_seed(s.seed, p.key), self.template.schema)
            for p in chunk
        ]
        with self._lock:
            self.prompt_seconds += time.perf_counter() - t
        return reqs

    def serve(self, engine: Engine, requests: list[Request], role: str = "generate") -> tuple[dict, float]:
        """``(completions by request key, seconds in the engine)``: each request from the cache,
        else from ``engine`` (under its call slots); counted under ``role`` (``generate`` or
        ``check``: the throughput counts keep them apart)."""
        completions, missing, keys = {}, [], {}
        for r in requests:
            keys[r.key] = r.cache_key(engine.model)
            hit = self.cache.get(keys[r.key], r.key)
            if hit is None:
                missing.append(r)
            else:
                completions[r.key] = hit
        counted = "" if role == "generate" else f"{role}_"
        if role == "generate":
            self.bar.update(len(requests) - len(missing))
        start = time.perf_counter()
        if missing:
            with self._slots[id(engine)]:
                for c in engine.generate(missing):
                    self.cache.put(keys[c.key], c)
                    completions[c.key] = c
                    with self._lock:
                        self.totals[f"{counted}sent"] += 1
                        self.totals[f"{counted}generated_tokens"] += c.completion_tokens
                        self.totals[f"{counted}attempts"] += c.attempts
                    if role == "generate":
                        self.bar.update(1)
        end = time.perf_counter()
        with self._lock:
            self.totals[f"{counted}cached"] += len(requests) - len(missing)
            if missing:
                self.engine_spans.append((start, end))
        self.cache.sync()
        if set(completions) != {r.key for r in requests}:
            raise RunFailed(f"synth failed: engine {engine.name} returned the wrong set of completions")
        return completions, (end - start if missing else 0.0)

    def _generate(self, chunk) -> dict:
        """Completions of one chunk by passage key (runs in an engine thread)."""
        return self.serve(self.engine, self._requests(chunk))[0]

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

    def _model_checks(self, decided: list) -> tuple[dict, float]:
        """``(results by passage key, seconds in the engines)`` of the model checks on the
        items that passed the rules and are no near-duplicate of an earlier chunk's item."""
        if self.checks is None:
            return {}, 0.0
        candidates = [
            (p, item)
            for p, _, item, reasons, _ in decided
            if item is not None and not reasons and not self.judge.is_duplicate(item)
        ]
        if not candidates:
            return {}, 0.0
        answer_requests, judge_requests = self.checks.requests(candidates)
        completions, waited = {}, 0.0
        if self.judge_engine is self.engine:  # one batch: the engine schedules both kinds together
            got, waited = self.serve(self.engine, answer_requests + judge_requests, "check")
            completions |= got
        else:
            for engine, requests in ((self.engine, answer_requests), (self.judge_engine, judge_requests)):
                if requests:
                    got, seconds = self.serve(engine, requests, "check")
                    completions |= got
                    waited += seconds
        return self.checks.decide(candidates, completions), waited

    def _write_chunk(self, i: int, completions: dict) -> dict:
        t = time.perf_counter()
        decided = [(p, completions[p.key], *self.judge.rules(p, completions[p.key])) for p in self.chunks[i]]
        t_checks = time.perf_counter()
        results, waited = self._model_checks(decided)
        check_seconds = time.perf_counter() - t_checks - waited
        accepted, rejected = [], []
        for p, c, item, reasons, detail in decided:
            check = results.get(p.key)
            if item is not None:  # decided in passage order: the near-duplicate check, then the checks'
                reasons = self.judge.commit(item, reasons, check.reasons if check else [])
            if check is not None and check.detail:
                detail = "; ".join(d for d in (detail, check.detail) if d)
            common = common_fields(p, c, self.info, request_seed(self.recipe.sampling.seed, p.key))
            fields = check.fields if check else None
            if reasons:
                rejected.append(rejected_row(c, reasons, detail, common, fields))
            else:
                accepted.append(accepted_row(item, p, common, fields, self.template))
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
        check_errors = sum(1 for r in results.values() if r.errors)
        marker = {
            "passages": len(self.chunks[i]),
            "accepted": len(accepted),
            "rejected": len(rejected),
            "reasons": dict(Counter(r["reason"] for r in rejected)),
            "all_reasons": dict(Counter(x for r in rejected for x in r["reasons"])),
            "engine_errors": sum(1 for c in completions.values() if c.error) + check_errors,
            "generated_tokens": sum(c.completion_tokens for c in completions.values()),
        }
        if self.checks is not None:
            marker["checks"] = tally(list(results.values()))
        atomic_write_json(marker, os.path.join(self.markers, f"chunk-{i:05d}.json"))
        self.check_seconds += check_seconds
        self.checked_items += len(results)
        self.judge_seconds += time.perf_counter() - t - waited
        acc = sum(m["accepted"] for m in self.done.values()) + len(accepted)
        rej = sum(m["rejected"] for m in self.done.values()) + len(rejected)
        seconds = self.engine_seconds()
        rate = self.totals["generated_tokens"] / seconds if seconds else 0.0
        self.bar.set_postfix(accepted=acc, rejected=rej, tok_s=f"{rate:.0f}", refresh=True)
        return marker
