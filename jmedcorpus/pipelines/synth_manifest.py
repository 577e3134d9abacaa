"""The manifest of a ``jmedcorpus synth`` run (``QA/manifest.json``), from its chunk markers and
throughput counts: settings, versions, counts per reason, the model checks' distributions,
throughput. Written last: an output with a manifest is complete."""

from __future__ import annotations

import sys
import time
from collections import Counter

from jmedcorpus import __version__
from jmedcorpus.errors import RunFailed
from jmedcorpus.synth.model_checks import summarize


def synth_manifest(run, selection: dict, fp: str, started: float) -> dict:
    """The manifest of the finished :class:`~jmedcorpus.pipelines.synth_chunks.ChunkRun` ``run``.
    ``units = accepted + rejected`` is checked (units: the passages, or the EHR template's local
    names)."""
    from jmedcorpus.versions import versions

    done = run.done.values()
    reasons, all_reasons = Counter(), Counter()
    for m in done:
        reasons.update(m["reasons"])
        all_reasons.update(m["all_reasons"])
    accepted = sum(m["accepted"] for m in done)
    rejected = sum(m["rejected"] for m in done)
    units = sum(len(c) for c in run.chunks)
    if accepted + rejected != units:
        raise RunFailed(
            f"synth failed: accounting mismatch: {units} passages != {accepted} accepted + {rejected} rejected"
        )
    return {
        "jmedcorpus_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fingerprint": fp,
        "command": sys.argv,
        "recipe_file": run.recipe.source,
        "recipe": run.recipe.to_dict(),
        "engine": run.engine.describe(),
        "prompt_version": run.template.id,
        "versions": {**versions(), **_engine_versions()},
        "decontaminate_against": run.opts.decontaminate_against,
        "selection": selection,
        "counts": {
            "passages": units,
            "accepted": accepted,
            "rejected": rejected,
            "rejected_by_reason": dict(reasons.most_common()),
            "reasons_found": dict(all_reasons.most_common()),
            "engine_errors": sum(m["engine_errors"] for m in done),
        },
        **({"model_checks": _model_checks(run, done)} if run.checks is not None else {}),
        "throughput": _throughput(run, started),
        "shards": [
            {"file": run.shard_name(i), "rows": run.done[i]["accepted"]}
            for i in range(len(run.chunks))
            if run.done[i]["accepted"]
        ],
    }


def _model_checks(run, done) -> dict:
    """What the checks were (prompt/rubric versions, thresholds, the judge's engine) and what they
    found: the agreement and score distributions over every item checked in this output."""
    r, checks = run.recipe, run.checks
    out = summarize([m["checks"] for m in done if "checks" in m])
    if checks.answer_check is not None:
        a = r.answer_check
        out["answer_check"] = {"prompt": a.prompt, "k": a.k, "min_agreement": a.min_agreement}
        out["answer_check"] |= {"with_passage": a.with_passage, "sampling": a.sampling().as_dict()}
    if checks.judge is not None:
        j = r.judge
        out["judge"] = {"rubric": j.rubric, "min_score": j.min_score, "sampling": j.sampling().as_dict()}
        out["judge"]["engine"] = run.judge_engine.describe()
    return out


def _throughput(run, started: float) -> dict:
    """Requests and tokens of generation and of the checks; rates over the engines' busy time
    (both kinds); the pipeline's own time per prompt and the checks' per checked item."""
    t, seconds = run.totals, run.engine_seconds()
    overhead = run.prompt_seconds + run.judge_seconds
    sent, tokens = t["sent"] + t["check_sent"], t["generated_tokens"] + t["check_generated_tokens"]
    prompts = t["sent"] + t["cached"]
    return {
        "requests_sent": t["sent"],
        "requests_from_cache": t["cached"],
        "check_requests_sent": t["check_sent"],
        "check_requests_from_cache": t["check_cached"],
        "http_or_engine_attempts": t["attempts"] + t["check_attempts"],
        "generated_tokens": t["generated_tokens"],
        "check_generated_tokens": t["check_generated_tokens"],
        "engine_seconds": round(seconds, 3),
        "prompts_per_second": round(sent / seconds, 3) if seconds else None,
        "generated_tokens_per_second": round(tokens / seconds, 1) if seconds else None,
        "pipeline_seconds": round(overhead, 3),
        "pipeline_ms_per_prompt": round(1000 * overhead / prompts, 3) if prompts else None,
        "checks_seconds": round(run.check_seconds, 3),
        "checks_ms_per_item": (
            round(1000 * run.check_seconds / run.checked_items, 3) if run.checked_items else None
        ),
        "wall_seconds": round(time.time() - started, 3),
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
