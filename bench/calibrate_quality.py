"""Calibrate the quality filters: drops per data file and signal percentiles, at default thresholds.

Usage: ``python bench/calibrate_quality.py [DATA_DIR]`` (default ``../shared/data`` relative to the
repository). Each ``*.jsonl`` file (records with a ``text`` field) is normalized the way the
pipeline does before its filters (full-width ASCII U+FF01-FF5E to ASCII, U+3000 to a space), then
every quality filter runs on every document on its own (not chained), and once as a chain.

"ja docs" are the records with ``lang`` "ja" (when the field exists) and at least one kana
character: IgakuQA's Japanese file holds 11 English-only questions that the language filter drops
before the quality filters.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from datatrove.data import Document

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jmedcorpus.filters.quality import quality_filters

FILTERS = quality_filters()  # every filter of jmedcorpus/filters/quality/
KANA = re.compile(r"[\u3041-\u309F\u30A0-\u30FF]")
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def load(path: Path) -> list[tuple[str, bool]]:
    """(normalized text, is a Japanese document) per record."""
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    texts = [r["text"].translate(_FULLWIDTH) for r in records]
    return [(t, r.get("lang", "ja") == "ja" and bool(KANA.search(t))) for t, r in zip(texts, records)]


def main(argv: list[str] | None = None) -> int:
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=default)
    args = parser.parse_args(argv)
    files = sorted(args.data_dir.glob("*.jsonl"))
    if not files:
        parser.error(f"no *.jsonl files in {args.data_dir}")
    filters = [cls() for cls in FILTERS]
    signals: dict[str, dict[str, list[float]]] = {}
    print("| filter | " + " | ".join(f.stem for f in files) + " |")
    print("| --- |" + " --- |" * len(files))
    rows: dict[str, list[str]] = {type(f).registered_name: [] for f in filters} | {"ALL (chained)": []}
    for path in files:
        texts, ja = map(list, zip(*load(path)))
        file_signals = signals.setdefault(path.stem, {})
        measured = ja if any(ja) else [True] * len(texts)  # percentiles over ja docs, else all
        chain_drops, chain_ja, chain_reasons = 0, 0, Counter()
        dropped_any = [None] * len(texts)
        for flt in filters:
            reasons, ja_drops = Counter(), 0
            for i, text in enumerate(texts):
                doc = Document(text=text, id=str(i))
                keep = flt.filter(doc)
                if measured[i]:
                    for key, value in doc.metadata.items():
                        file_signals.setdefault(key, []).append(value)
                if keep is not True:
                    reasons[keep[1]] += 1
                    ja_drops += ja[i]
                    dropped_any[i] = dropped_any[i] or keep[1]
            detail = ", ".join(f"{r.removeprefix('quality_')} {c}" for r, c in reasons.most_common())
            total = sum(reasons.values())
            rows[flt.registered_name].append(f"{total} (ja {ja_drops})" + (f": {detail}" if detail else ""))
        for i, reason in enumerate(dropped_any):
            if reason:
                chain_drops += 1
                chain_ja += ja[i]
                chain_reasons[reason.removeprefix("quality_")] += 1
        n_ja, distinct = sum(ja), len({t for t, j in zip(texts, ja) if j})
        rows["ALL (chained)"].append(
            f"{chain_drops}/{len(texts)} (ja {chain_ja}/{sum(ja)}, {100 * chain_ja / max(n_ja, 1):.2f}%; distinct ja {distinct})"
        )
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells) + " |")
    for stem, file_signals in signals.items():
        print(f"\nSignal percentiles, {stem} (ja docs if any, else all docs):\n")
        print("| signal | p1 | p5 | p50 | p95 | p99 | min | max |")
        print("| --- |" + " --- |" * 7)
        for key, values in file_signals.items():
            v = np.asarray(values, dtype=float)
            cells = [*np.percentile(v, [1, 5, 50, 95, 99]), v.min(), v.max()]
            print(f"| {key} | " + " | ".join(f"{c:.3g}" for c in cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
