"""Acceptance on real mixed data: does the default recipe keep the Japanese and drop the English?

Input: ../shared/data (or DATA_DIR): Japanese case reports + licensing-exam questions, English
PubMedQA abstracts + the exam questions' English translations. Runs `jmedcorpus build` with the
default recipe and reports, from the output alone:
  - kept share of the *distinct* Japanese documents (distinct after normalization, since exact
    dedup rightly keeps one copy of repeated reports),
  - dropped share of the English documents, with the drop reasons.

usage: python bench/acceptance_mixed.py [DATA_DIR] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from jmedcorpus.pipelines.build import BuildOptions, build
from jmedcorpus.recipe import load_recipe
from jmedcorpus.text.normalize import normalize_text

JA_FILES = ["case_reports.jsonl", "igakuqa_2018_2022_ja.jsonl"]
EN_FILES = ["pubmedqa_en.jsonl", "igakuqa_2018_2022_en.jsonl"]
KANA = re.compile(r"[\u3041-\u30ff]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "data_dir", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    data = Path(args.data_dir)
    records = {
        name: [
            json.loads(line) for line in (data / name).read_text(encoding="utf-8").split("\n") if line.strip()
        ]
        for name in JA_FILES + EN_FILES
    }

    with tempfile.TemporaryDirectory() as tmp:
        started = time.time()
        m = build(
            BuildOptions(
                inputs=[str(data / n) for n in JA_FILES + EN_FILES],
                output=f"{tmp}/out",
                recipe=load_recipe(),
                workers=args.workers,
                progress=False,
            )
        )
        seconds = time.time() - started
        kept_ids = set(pq.read_table(f"{tmp}/out/data", columns=["id"]).column("id").to_pylist())
        removed = pq.read_table(f"{tmp}/out/removed", columns=["id", "reason"]).to_pylist()
    reason_of = {r["id"]: r["reason"] for r in removed}

    print(
        f"build of {sum(map(len, records.values()))} records in {seconds:.1f}s; counts: {json.dumps(m['counts'], ensure_ascii=False)}"
    )
    print("\n| file | records | distinct (normalized) | kept distinct | kept % | drop reasons |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in JA_FILES:
        groups: dict[str, list[str]] = {}
        for r in records[name]:
            groups.setdefault(normalize_text(r["text"]), []).append(r["id"])
        kept = sum(1 for ids in groups.values() if kept_ids & set(ids))
        lost = Counter(reason_of.get(ids[0], "?") for ids in groups.values() if not kept_ids & set(ids))
        print(
            f"| {name} | {len(records[name])} | {len(groups)} | {kept} | {100 * kept / len(groups):.2f} | {dict(lost)} |"
        )
        english_only = [t for t in groups if not KANA.search(t)]
        if english_only:
            kept_ja = sum(1 for t, ids in groups.items() if KANA.search(t) and kept_ids & set(ids))
            n_ja = len(groups) - len(english_only)
            print(
                f"| {name} (excluding {len(english_only)} items with no kana: English text in the Japanese set) | | {n_ja} | {kept_ja} | {100 * kept_ja / n_ja:.2f} | |"
            )
    for name in EN_FILES:
        ids = [r["id"] for r in records[name]]
        dropped = [i for i in ids if i not in kept_ids]
        reasons = Counter(reason_of.get(i, "?") for i in dropped)
        print(
            f"| {name} | {len(ids)} | | kept {len(ids) - len(dropped)} | dropped {100 * len(dropped) / len(ids):.2f} | {dict(reasons)} |"
        )


if __name__ == "__main__":
    main()
