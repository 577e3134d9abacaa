"""``OUT/README.md``: a dataset card in the Hugging Face format (YAML metadata, then Markdown),
generated from the same numbers as ``OUT/stats/stats.json``, so the card never disagrees with
the data. The Hub and ``datasets`` read the ``configs`` block to find the shards."""

from __future__ import annotations

import os

import yaml

from jmedcorpus.io.parquet import atomic_write_text

_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))
_SIGNALS = ("chars", "mecab_tokens", "sentences", "language_score", "hiragana_ratio", "kanji_ratio")


def size_category(n: int) -> str:
    """The Hub's size category of ``n`` documents.

    >>> size_category(148), size_category(2_500_000)
    ('n<1K', '1M<n<10M')
    """
    for limit, label in _SIZES:
        if n < limit:
            return label
    return "1M<n<10M" if n < 10_000_000 else "n>10M"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


def render_dataset_card(stats: dict, manifest: dict) -> str:
    c = stats["counts"]
    name = stats["corpus"].get("name") or "jmedcorpus"
    meta = {
        "language": ["ja"],
        "license": "other",
        "pretty_name": f"{name} (jmedcorpus)",
        "size_categories": [size_category(c["kept"])],
        "task_categories": ["text-generation"],
        "tags": ["medical", "japanese", "jmedcorpus"],
        "configs": [
            {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}
        ],
    }
    lines = ["---", yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip(), "---", ""]
    lines += [
        f"# {name}",
        "",
        (
            f"Japanese medical text curated with jmedcorpus {manifest.get('jmedcorpus_version', '')} "
            f"(recipe `{name}`, build `{stats['corpus'].get('fingerprint')}`, {stats['corpus'].get('created_at')})."
        ),
        "",
        (
            f"- **{c['kept']:,} documents, {c['kept_chars']:,} characters, {c['kept_mecab_tokens']:,} MeCab tokens** "
            "(MeCab + unidic-lite; an LLM tokenizer gives other counts)"
        ),
        (
            f"- {c['records_in']:,} records read: {c['kept']:,} kept, {c['removed']:,} removed, "
            f"{c['quarantined']:,} unreadable (quarantined)"
        ),
        "",
        "```python",
        "import datasets",
        'ds = datasets.load_dataset("parquet", data_dir="data", split="train")',
        "```",
        "",
        "## How it was built",
        "",
    ]
    rows = [
        [
            s["step"],
            f"{s['in']:,}",
            f"{s['out']:,}",
            ", ".join(f"{k} {v:,}" for k, v in list(s["reasons"].items())[:3]),
        ]
        for s in stats["funnel"]
    ]
    lines += _table(["step", "documents in", "out", "removed (top reasons)"], rows)
    lines += ["", "Every removed document is kept under `removed/<step>/` with its reason and signals.", ""]
    lines += ["## Contents", ""]
    kept_sources = stats["sources"].get("kept", {})
    lines += _table(["source", "documents"], [[k, f"{v:,}"] for k, v in list(kept_sources.items())[:15]])
    types = stats["document_types"].get("kept", {})
    lines += ["", *_table(["document type", "documents"], [[k, f"{v:,}"] for k, v in types.items()]), ""]
    signal_rows = []
    for key in _SIGNALS:
        s = stats["signals"].get(key)
        if s and s["quantiles_kept"]:
            q = s["quantiles_kept"]
            signal_rows.append([key, f"{q['p10']:g}", f"{q['p50']:g}", f"{q['p90']:g}"])
    if signal_rows:
        lines += ["Distribution of kept documents (upper bin edges of the quantiles):", ""]
        lines += _table(["signal", "p10", "p50", "p90"], signal_rows)
        lines.append("")
    terms = stats["terms"]
    if terms["medical_terms"]:
        top = "、".join(t for t, _ in terms["medical_terms"][:20])
        lines += [f"Most frequent medical terms ({terms['sample_documents']:,} sampled documents): {top}", ""]
    lines += [
        "## Limitations",
        "",
        "- Licenses are those of the sources; check each source before redistributing (`license: other`).",
        "- Medical text may contain personal information; check the recipe for a personal-information step.",
        "- Statistics: `jmedcorpus stats .` (and `--html report.html`); samples and removals: `jmedcorpus inspect .`.",
        "",
    ]
    return "\n".join(lines)


def write_dataset_card(stats: dict, manifest: dict, out: str) -> str:
    path = os.path.join(out, "README.md")
    atomic_write_text(render_dataset_card(stats, manifest), path)
    return path
