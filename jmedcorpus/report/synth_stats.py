"""``jmedcorpus stats QA`` on the output of ``jmedcorpus synth``: counts per reason, the judge's
score distribution and the answer check's agreement, for accepted and rejected items.

Computed from ``data/`` and ``rejected/`` (light columns only, no text), so it describes the
files as they are, and matches the manifest's ``model_checks`` (tested). The terminal summary
and ``--json`` hold numbers and reason names only.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter

import pyarrow.parquet as pq

from jmedcorpus.errors import UserError

_COLUMNS = ("source", "reasons", "judge_score", "judge_rubric", "answer_check_agreement")


def synth_stats(path: str) -> dict:
    """The statistics of the synth output at ``path``."""
    with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    status = {"accepted": "data", "rejected": "rejected"}
    counts: dict[str, Counter] = {k: Counter() for k in ("reasons", "reasons_found", "sources")}
    scores = {k: Counter() for k in status}
    agreement = {k: Counter() for k in status}
    rows = Counter()
    for kind, folder in status.items():
        for file in sorted(glob.glob(os.path.join(path, folder, "*.parquet"))):
            pf = pq.ParquetFile(file)
            cols = [c for c in _COLUMNS if c in pf.schema_arrow.names]
            for batch in pf.iter_batches(batch_size=4096, columns=cols):
                b = batch.to_pydict()
                rows[kind] += batch.num_rows
                for i in range(batch.num_rows):
                    if kind == "rejected":
                        counts["reasons"][b["reasons"][i][0]] += 1
                        counts["reasons_found"].update(b["reasons"][i])
                    else:
                        counts["sources"][b["source"][i]] += 1
                    if b.get("judge_rubric", [None] * batch.num_rows)[i]:
                        score = b["judge_score"][i]
                        scores[kind]["unparseable" if score is None else str(score)] += 1
                    value = b.get("answer_check_agreement", [None] * batch.num_rows)[i]
                    if value is not None:
                        agreement[kind][str(value)] += 1
    both_scores, both_agreement = (
        scores["accepted"] + scores["rejected"],
        agreement["accepted"] + agreement["rejected"],
    )
    return {
        "output": "synth",
        "prompt_version": manifest.get("prompt_version"),
        "model": (manifest.get("engine") or {}).get("model"),
        "counts": {
            "items": rows["accepted"] + rows["rejected"],
            "accepted": rows["accepted"],
            "rejected": rows["rejected"],
            "rejected_by_reason": dict(counts["reasons"].most_common()),
            "reasons_found": dict(counts["reasons_found"].most_common()),
        },
        "sources": dict(counts["sources"].most_common()),
        "judge_scores": {
            "all": _scores(both_scores),
            **{k: _scores(v) for k, v in scores.items()},
            "mean_all": _mean(both_scores),
            "mean_accepted": _mean(scores["accepted"]),
        },
        "agreement": {
            "all": _histogram(both_agreement),
            **{k: _histogram(v) for k, v in agreement.items()},
            "mean_all": _mean(both_agreement),
        },
    }


def _scores(c: Counter) -> dict:
    return {**{str(s): c.get(str(s), 0) for s in range(1, 6)}, "unparseable": c.get("unparseable", 0)}


def _histogram(c: Counter) -> dict:
    return dict(sorted(c.items(), key=lambda kv: float(kv[0])))


def _mean(c: Counter) -> float | None:
    numeric = {float(k): v for k, v in c.items() if k != "unparseable"}
    n = sum(numeric.values())
    return round(sum(k * v for k, v in numeric.items()) / n, 4) if n else None


def summary(stats: dict) -> str:
    """The terminal summary of :func:`synth_stats`."""
    c = stats["counts"]
    head = f"synth output ({stats['prompt_version']}, model {stats['model']}): items {c['items']:,}"
    lines = [f"{head}  accepted {c['accepted']:,}  rejected {c['rejected']:,}"]
    if c["rejected_by_reason"]:
        lines.append(
            "rejected by reason: " + ", ".join(f"{k} {v:,}" for k, v in c["rejected_by_reason"].items())
        )
    j = stats["judge_scores"]
    if any(j["all"].values()):
        dist = ", ".join(f"{k}: {v:,}" for k, v in j["all"].items())
        lines.append(
            f"judge scores (all judged): {dist}; mean {j['mean_all']}, accepted {j['mean_accepted']}"
        )
    a = stats["agreement"]
    if a["all"]:
        hist = ", ".join(f"{k}: {v:,}" for k, v in a["all"].items())
        lines.append(f"answer-check agreement (all checked): {hist}; mean {a['mean_all']}")
    if stats["sources"]:
        lines.append(
            "sources (accepted): " + ", ".join(f"{k} {v:,}" for k, v in list(stats["sources"].items())[:8])
        )
    return "\n".join(lines)


def cmd_stats_synth(args) -> int:
    """``jmedcorpus stats QA`` for a synth output (``--json`` or the summary)."""
    if args.html or args.save:
        raise UserError(
            f"--html and --save are for build outputs; {args.output} is a synth output (try --json)"
        )
    stats = synth_stats(args.output)
    print(json.dumps(stats, ensure_ascii=False, indent=2) if args.json else summary(stats))
    return 0
