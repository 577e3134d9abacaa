"""The manifest of ``jmedcorpus tokenize``, the mix written beside it, and the terminal summary.

``TOK/manifest.json`` records what a trainer needs to trust the shards: the tokenizer (path,
sha256 of its serialized fast tokenizer, vocabulary size, EOS id and token, the ``.bin`` dtype),
the settings and corpus it was made from, documents and tokens per group, per source (the 1,000
largest) and per shard, and the mix (weights, token shares, where ``data_paths.txt`` points).
It is written last: an output with a manifest is complete. ``TOK/README.md`` is a dataset card
made from the manifest (tokenizer, totals, and per group the tokens, weight and token share),
rewritten with ``data_paths.txt`` whenever the mix changes.
"""

from __future__ import annotations

import os
import time
from importlib import metadata

import numpy as np
import yaml

from jmedcorpus import __version__
from jmedcorpus.io.parquet import atomic_write_json, atomic_write_text
from jmedcorpus.tokenize import megatron, mixing

KIND = "jmedcorpus tokenize"
DATA_PATHS = "data_paths.txt"
CARD = "README.md"
MAX_SOURCES_LISTED = 1000
PACKAGES = ("jmedcorpus", "tokenizers", "transformers", "numpy", "pyarrow", "ray")


def all_complete(out: str, listed: list[dict], dtype: str) -> bool:
    """Whether every shard ``listed`` in a manifest is on disk with its documents, tokens and bytes."""
    for s in listed:
        try:
            found, sizes = megatron.read_index(os.path.join(out, s["prefix"] + ".idx"))
            bin_bytes = os.path.getsize(os.path.join(out, s["prefix"] + ".bin"))
        except (OSError, ValueError, KeyError):
            return False
        tokens = int(sizes.sum(dtype=np.int64))
        if (
            found.name != dtype
            or len(sizes) != s["documents"]
            or tokens != s["tokens"]
            or bin_bytes != s["bin_bytes"]
        ):
            return False
    return True


def build_manifest(out, corpus, inputs, info, fp, decisive, groups, sources, results, plan, written) -> dict:
    """The manifest of a run (without ``mix`` and ``run``, added by the caller)."""
    per_source: dict[str, list] = {}
    for r in results.values():
        for s, (g, docs, tokens) in r["sources"].items():
            entry = per_source.setdefault(s, [g, 0, 0])
            entry[1] += docs
            entry[2] += tokens
    listed = sorted(per_source.items(), key=lambda kv: (-kv[1][2], kv[0]))[:MAX_SOURCES_LISTED]
    shard_rows = []
    for s in plan:
        w = written.get(s["prefix"])
        bin_bytes = w["bin_bytes"] if w else os.path.getsize(os.path.join(out, s["prefix"] + ".bin"))
        shard_rows.append(
            {
                "prefix": s["prefix"],
                "group": s["group"],
                "documents": s["documents"],
                "tokens": s["tokens"],
                "bin_bytes": bin_bytes,
            }
        )
    group_rows = {
        g: {
            "documents": sum(s["documents"] for s in plan if s["group"] == g),
            "tokens": sum(s["tokens"] for s in plan if s["group"] == g),
            "sources": sum(1 for v in sources.values() if v == g),
            "shards": [s["prefix"] for s in plan if s["group"] == g],
        }
        for g in groups
    }
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "kind": KIND,
        "jmedcorpus_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fingerprint": fp,
        "settings": decisive,
        "corpus": {"path": corpus, "shards": [os.path.basename(p) for p in inputs]},
        "tokenizer": info.to_dict(),
        "format": {
            "megatron": "MMIDIDX v1",
            "dtype": info.dtype,
            "sequence_per_document": True,
            "eos_appended": True,
        },
        "totals": {
            "documents": sum(s["documents"] for s in plan),
            "tokens": sum(s["tokens"] for s in plan),
            "groups": len(groups),
            "shards": len(plan),
        },
        "groups": group_rows,
        "sources": {s: {"group": g, "documents": d, "tokens": t} for s, (g, d, t) in listed},
        "sources_not_listed": max(0, len(per_source) - MAX_SOURCES_LISTED),
        "shards": shard_rows,
        "versions": versions,
    }


def remix(manifest: dict, weights: dict, root: str, out: str, path: str, up_to_date: bool = True) -> dict:
    """Write ``data_paths.txt`` and the mix part of the manifest; the manifest last."""
    text, shares = mixing.blend(manifest["shards"], weights, root)
    mix = {"weights": weights, "token_shares": shares, "data_root": root, "data_paths": DATA_PATHS}
    _write_if_changed(text, os.path.join(out, DATA_PATHS))
    _write_if_changed(render_card({**manifest, "mix": mix}), os.path.join(out, CARD))
    if manifest.get("mix") != mix or not up_to_date:
        manifest["mix"] = mix
        atomic_write_json(manifest, path)
    return {**manifest, "up_to_date": up_to_date}


def _write_if_changed(text: str, path: str) -> None:
    current = open(path, encoding="utf-8").read() if os.path.exists(path) else None  # noqa: SIM115
    if current != text:
        atomic_write_text(text, path)


def render_card(m: dict) -> str:
    """``TOK/README.md``: a dataset card (YAML metadata, then Markdown) from the manifest ``m``."""
    tok, t, mix = m["tokenizer"], m["totals"], m["mix"]
    meta = {
        "language": ["ja"],
        "license": "other",
        "pretty_name": "jmedcorpus token shards (Megatron-LM)",
        "task_categories": ["text-generation"],
        "tags": ["medical", "japanese", "jmedcorpus", "megatron"],
    }
    lines = ["---", yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip(), "---", ""]
    lines += [
        "# Megatron-LM token shards (jmedcorpus tokenize)",
        "",
        f"Tokenized with jmedcorpus {m.get('jmedcorpus_version', '')} from `{m['corpus']['path']}` ({m.get('created', '')}).",
        "",
        (
            f"- **{t['documents']:,} documents, {t['tokens']:,} tokens** in {t['shards']} Megatron MMIDIDX "
            f"shard(s) of {tok['dtype']} ids, one sequence per document, EOS {tok['eos_id']} "
            f"(`{tok['eos_token']}`) after each"
        ),
        (
            f"- tokenizer: `{tok['path']}` ({tok['tokenizer_class']}, {tok['vocab_size']:,} ids, "
            f"sha256 `{tok['sha256']}`)"
        ),
        "",
        "## Mix",
        "",
        "| group | documents | tokens | weight | token share |",
        "| --- | --- | --- | --- | --- |",
    ]
    for g, row in m["groups"].items():
        share = mix["token_shares"].get(g, 0.0)
        weight = mix["weights"].get(g, 0.0)
        lines.append(f"| {g} | {row['documents']:,} | {row['tokens']:,} | {weight:g} | {share:.2%} |")
    lines += [
        "",
        (
            "Token share: the fraction of training tokens drawn from a group, weight × tokens / Σ weight × "
            f"tokens. A group of weight 0 is not in `{DATA_PATHS}`."
        ),
        "",
        "```bash",
        f"python pretrain_gpt.py ... --data-args-path {os.path.join(mix['data_root'], DATA_PATHS)}",
        "```",
        "",
    ]
    return "\n".join(lines)


def summary(m: dict, out: str) -> str:
    """A few lines for the terminal: totals, groups with weight and share, where the list is."""
    out = out.rstrip("/") or "/"
    t, mix, lines = m["totals"], m["mix"], []
    if m.get("up_to_date"):
        lines.append(
            f"{out}: up to date (same tokenizer, settings and corpus); mix and {DATA_PATHS} refreshed"
        )
    else:
        r = m["run"]
        lines.append(
            f"tokenized {r['units_tokenized']:,} of {r['units']:,} unit(s), wrote {r['shards_written']:,} shard(s), "
            f"kept {r['shards_kept']:,} complete in {r['timing_seconds']['total']:.1f} s"
        )
    tok = m["tokenizer"]
    lines.append(
        f"{t['documents']:,} documents, {t['tokens']:,} tokens (EOS {tok['eos_id']} per document, {tok['dtype']}) "
        f"in {t['shards']} shard(s) under {out}"
    )
    lines.append(f"{'group':<24}{'documents':>12}{'tokens':>16}{'weight':>8}{'share':>8}")
    for g, row in m["groups"].items():
        share = mix["token_shares"].get(g, 0.0)
        lines.append(
            f"{g:<24}{row['documents']:>12,}{row['tokens']:>16,}{mix['weights'][g]:>8g}{share:>8.1%}"
        )
    lines.append(f"Megatron: --data-args-path {os.path.join(out, DATA_PATHS)}")
    return "\n".join(lines)
