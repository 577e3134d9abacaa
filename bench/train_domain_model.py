"""Regenerate the shipped medical-domain model (jmedcorpus/domain/medical_domain_v1.bin) from
../shared/data, byte for byte.

1. Writes ``bench/_work/domain/labelled.jsonl``: the case reports and the Japanese licensing-exam
   questions labelled ``medical``, the Wikipedia paragraphs labelled ``general`` except the
   medical ones in :data:`EXCLUDED` (left out of both classes), each with a ``group`` field that
   keeps near-copies and articles on one side of the held-out split: ``wiki:<title>`` for a
   paragraph, ``med:<first 40 characters of the normalized text>`` for a medical record (this
   joins the 3 pairs of case reports published twice with small edits, found by character
   5-gram Jaccard >= 0.98, and the exam questions sharing one case).
2. Runs the command recorded in ``jmedcorpus/domain/MODEL_CARD.md`` (:data:`TRAIN_ARGS`) on it: the
   model learns from the train split only; ``bench/domain_accuracy.py`` evaluates it on the
   held-out split.

usage: python bench/train_domain_model.py [--data-dir DIR] [--output PATH] [--check]
  --check   train into a temporary file and compare it with the shipped model (exit 1 if they differ)
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jmedcorpus.cli import main as jmedcorpus_main
from jmedcorpus.domain.model import shipped_model_path
from jmedcorpus.text.normalize import normalize_text

DATA = ROOT.parent / "shared" / "data"
LABELLED = ROOT / "bench" / "_work" / "domain" / "labelled.jsonl"
MEDICAL_FILES = ("case_reports.jsonl", "igakuqa_2018_2022_ja.jsonl")
GENERAL_FILE = "wikipedia_ja_paragraphs.jsonl"
# Wikipedia paragraphs about medicine, left out of the negatives (22 of 1,145). Found by reading
# every paragraph with a medical keyword (医 病 患 感染 薬 健康 治療 診 疾 症 ウイルス 細菌 寿命
# HIV がん 死亡: 58 paragraphs) and the paragraphs that scored highest out of fold (5 folds by
# title): the whole articles 伝染病 (infectious disease, 12) and 核酸塩基 (nucleobases, 8: DNA/RNA
# chemistry and antiviral and anticancer drugs), a paragraph on HIV prevalence and life expectancy
# and one on a health-care system ranking. Kept as general: biology that is not medicine
# (生命の起源, サケ), and passing mentions (a composer's illness, a plague in a history, 農薬).
EXCLUDED_TITLES = ("伝染病", "核酸塩基")
EXCLUDED_IDS = ("jsquad-valid-コンゴ共和国-15", "jsquad-valid-オランダ-51")
TRAIN_ARGS = ["--group-field", "group", "--holdout", "0.2", "--seed", "0"]


def labelled_records(data_dir: Path) -> tuple[list[dict], int]:
    """The labelled records in file order, and how many Wikipedia paragraphs were excluded."""
    out, excluded = [], 0
    for name in MEDICAL_FILES:
        for r in _read(data_dir / name):
            group = "med:" + normalize_text(r["text"])[:40]
            out.append({"id": r["id"], "text": r["text"], "label": "medical", "group": group})
    for r in _read(data_dir / GENERAL_FILE):
        if r["title"] in EXCLUDED_TITLES or r["id"] in EXCLUDED_IDS:
            excluded += 1
            continue
        out.append({"id": r["id"], "text": r["text"], "label": "general", "group": f"wiki:{r['title']}"})
    return out, excluded


def _read(path: Path) -> list[dict]:
    if not path.exists():
        sys.exit(f"train_domain_model: missing {path} (use --data-dir)")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_labelled(data_dir: Path, path: Path) -> None:
    records, excluded = labelled_records(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    print(f"{path}: {len(records):,} records ({excluded} medical Wikipedia paragraphs excluded)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DATA)
    ap.add_argument("--output", default=shipped_model_path())
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    write_labelled(args.data_dir, LABELLED)
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "model.bin") if args.check else args.output
        argv = ["train-domain", "--input", str(LABELLED), *TRAIN_ARGS, "--output", output]
        print("jmedcorpus " + " ".join(argv))
        code = jmedcorpus_main(argv)
        if code or not args.check:
            return code
        same = filecmp.cmp(output, shipped_model_path(), shallow=False)
        print("identical to the shipped model" if same else "DIFFERS from the shipped model")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
