"""How well does the ``medical_domain`` step separate medical from general Japanese, against the
``medical_density`` lexicon signal, and how fast is it?

Data: the labelled records of ``bench/train_domain_model.py`` (case reports and licensing-exam
questions vs Wikipedia paragraphs, medical paragraphs excluded) and the seeded held-out split the
shipped model's header records (``--holdout 0.2 --seed 0``, whole groups: articles and near-copies
stay on one side). The script checks that the header's input SHA-256 is that of these records, so
the held-out documents are ones the shipped model never saw. Each document is normalized and
tokenized as in a build, then scored by both steps.

Reports:
- ROC AUC of ``medical_score`` and ``medical_density``; the classifier at the shipped floor (the
  model's recommended ``min_score``) and other floors, ``medical_density`` at its best floor
  (chosen on these held-out documents, which favours it): share of medical kept, share of general
  kept, precision; the held-out medical documents by source;
- the 22 medical Wikipedia paragraphs left out of training: how many reach the floor;
- cross-source checks: a model trained (same settings) without one medical source's records,
  scored on that source's held-out records: does it learn medicine or the sources' style?
- speed, MB (10^6 bytes of UTF-8) per CPU second of this process (``time.process_time``: not
  inflated while other processes hold the core, as on a shared machine), each document's fastest
  of ``--repeat`` rounds: the step alone (it runs MeCab itself) and with the tokens given (as after
  the ``mecab`` step), beside ``medical_density``, on ``--mb`` MB of documents of 8-40 sentences of
  the case reports and exam questions (``bench_steps.make_docs``).

Prints Markdown; never prints document text.

usage: python bench/domain_accuracy.py [--data-dir DIR] [--mb 2] [--repeat 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datatrove.data import Document
from train_domain_model import DATA, EXCLUDED_IDS, EXCLUDED_TITLES, LABELLED, _read, write_labelled

from jmedcorpus.domain.features import feature_indices
from jmedcorpus.domain.labelled import read_labelled
from jmedcorpus.domain.model import load_model
from jmedcorpus.domain.train import best_floor, fit, holdout_mask, rates, roc_auc
from jmedcorpus.filters.domain import MedicalDomainFilter
from jmedcorpus.filters.medical import MedicalDensityFilter
from jmedcorpus.text.mecab import get_tokenizer, remember_tokens
from jmedcorpus.text.normalize import normalize_text

MB = 1_000_000
FLOORS = (0.1, 0.3, 0.5, 0.7, 0.9)


def signals(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(medical_score, medical_density) of each text, normalized and tokenized as in a build."""
    domain, density = MedicalDomainFilter(), MedicalDensityFilter()
    tokenizer = get_tokenizer()
    out = []
    for i, text in enumerate(texts):
        doc = Document(text=normalize_text(text), id=str(i), metadata={})
        tokenizer.word_tokenize(doc.text)  # the mecab step
        domain.filter(doc)
        density.filter(doc)
        out.append((doc.metadata["medical_score"], doc.metadata["medical_density"]))
    arr = np.array(out, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def accuracy(data_dir: Path) -> None:
    model = load_model()
    t = model.training
    write_labelled(data_dir, LABELLED)
    data = read_labelled([str(LABELLED)], "text", "label", t["group_field"])
    if data.sha256 != t["input_sha256"]:
        sys.exit(
            "domain_accuracy: the shipped model was trained on other data; re-run bench/train_domain_model.py"
        )
    labels = np.array(data.labels)
    held = holdout_mask(data.groups, labels, t["holdout"], t["seed"])
    texts = [x for x, h in zip(data.texts, held) if h]
    y = labels[held]
    score, density = signals(texts)
    floor = model.floor
    print(
        f"held-out: {len(y):,} documents ({int(y.sum()):,} medical, {int((y == 0).sum()):,} general); "
        f"trained on {t['records']['train']:,}\n"
    )
    print("| signal | ROC AUC | floor | medical kept | general kept | precision |")
    print("| --- | --- | --- | --- | --- | --- |")
    auc_s, auc_d = roc_auc(score, y), roc_auc(density, y)
    for f in sorted({*FLOORS, floor}):
        r = rates(score, y, f)
        mark = " (shipped)" if f == floor else ""
        print(
            f"| medical_score | {auc_s:.4f} | {f}{mark} | {pct(r['medical_kept'])} | {pct(r['general_kept'])} "
            f"| {pct(r['precision'])} |"
        )
    bf = best_floor(density, y)
    r = rates(density, y, bf)
    print(
        f"| medical_density | {auc_d:.4f} | {bf:.3f} (best) | {pct(r['medical_kept'])} | "
        f"{pct(r['general_kept'])} | {pct(r['precision'])} |"
    )
    with open(LABELLED, encoding="utf-8") as f:  # the ids, in read_labelled's order (nothing skipped)
        record_ids = [json.loads(line)["id"] for line in f if line.strip()]
    held_ids = [i for i, h in zip(record_ids, held) if h]
    misses = [f"{i} {s:.2f}" for i, s, lab in zip(held_ids, score, y) if (s >= floor) != (lab == 1)]
    ids = [g for g, h in zip(data.groups, held) if h]  # "group:med:..." groups; sources from the files
    by_source = {"case reports": [], "exam questions": []}
    reports = {"group:med:" + normalize_text(r["text"])[:40] for r in _read(data_dir / "case_reports.jsonl")}
    for g, s, lab in zip(ids, score, y):
        if lab == 1:
            by_source["case reports" if g in reports else "exam questions"].append(s)
    print()
    for name, s in by_source.items():
        print(f"- held-out {name}: {len(s):,}, {pct(np.mean(np.array(s) >= floor))} at or above {floor}")
    print(f"- on the wrong side of {floor} (id, score): {', '.join(misses) or 'none'}")
    excluded = [
        r["text"]
        for r in _read(data_dir / "wikipedia_ja_paragraphs.jsonl")
        if r["title"] in EXCLUDED_TITLES or r["id"] in EXCLUDED_IDS
    ]
    s_ex, _ = signals(excluded)
    print(
        f"- medical Wikipedia paragraphs left out of training: {int((s_ex >= floor).sum())} of "
        f"{len(s_ex)} at or above {floor} (median score {np.median(s_ex):.2f})"
    )
    cross_source(data, labels, held, reports, floor)


def cross_source(data, labels: np.ndarray, held: np.ndarray, reports: set[str], floor: float) -> None:
    """Train without one medical source; score that source's and the general held-out records."""
    shipped = load_model()
    tokenizer = get_tokenizer()
    rows = []
    for text in data.texts:
        text = normalize_text(text)
        rows.append(feature_indices(text, tokenizer.word_tokenize(text), shipped.bits))
    is_report = np.array([g in reports for g in data.groups])
    t = shipped.training
    print(
        f"\n| trained without | scored on (held out) | ROC AUC | medical kept at {floor} | general kept at {floor} |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name, source in (("case reports", is_report), ("exam questions", (labels == 1) & ~is_report)):
        train = ~held & ~source
        model = fit(
            [r for r, k in zip(rows, train) if k],
            labels[train],
            bits=shipped.bits,
            l2=t["l2"],
            iterations=t["iterations"],
        )
        test = held & (source | (labels == 0))
        s = [model.score_indices(r) for r, k in zip(rows, test) if k]
        r = rates(s, labels[test], floor)
        print(
            f"| {name} | {name} + general | {roc_auc(s, labels[test]):.4f} | {pct(r['medical_kept'])} | "
            f"{pct(r['general_kept'])} |"
        )


def speed(data_dir: Path, mb: float, seed: int, repeat: int) -> None:
    from bench_steps import make_docs

    docs = [normalize_text(d) for d in make_docs(data_dir, mb, seed, 0.0)]
    size = sum(len(d.encode("utf-8")) for d in docs) / MB
    tokenizer = get_tokenizer()
    tokens = [tokenizer.word_tokenize(d) for d in docs]
    print(
        f"\nspeed on {len(docs):,} documents, {size:.2f} MB, one core, fastest of {repeat} rounds per document\n"
    )
    print("| step | alone (runs MeCab) MB/s | tokens given MB/s |")
    print("| --- | --- | --- |")
    for step in (MedicalDomainFilter(), MedicalDensityFilter()):
        rates_ = []
        for given in (False, True):
            rounds = []
            for _ in range(repeat):
                spent = []
                for text, toks in zip(docs, tokens):
                    text = "".join(text)  # a fresh object: no identity cache hit
                    if given:
                        remember_tokens(text, toks)
                    doc = Document(text=text, id="b", metadata={})
                    started = time.process_time()
                    step.filter(doc)
                    spent.append(time.process_time() - started)
                    remember_tokens("", [])  # next document starts cold
                rounds.append(spent)
            rates_.append(size / sum(map(min, zip(*rounds))))
        print(f"| {step.registered_name} | {rates_[0]:.1f} | {rates_[1]:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DATA)
    ap.add_argument("--mb", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    accuracy(args.data_dir)
    speed(args.data_dir, args.mb, args.seed, args.repeat)


if __name__ == "__main__":
    main()
