"""``jmedcorpus train-domain``: train a medical-domain model on labelled JSONL, print its held-out
ROC AUC, recall and precision, and write it atomically (for the ``medical_domain`` step's
``model``)."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os

import numpy as np

from jmedcorpus.cli_options import add_input, add_output
from jmedcorpus.errors import UserError

EPILOG = """\
examples:
  jmedcorpus train-domain --input labelled.jsonl --output my_domain.bin
  jmedcorpus train-domain --input med.jsonl general.jsonl --output m.bin --label-field y --holdout 0.1 --seed 3
  jmedcorpus train-domain --input wiki_and_notes.jsonl --group-field title --output m.bin --floor 0.7
  jmedcorpus train-domain --input all.jsonl --holdout 0 --floor 0.5 --output final.bin

input: JSONL, one object a line, e.g. {"text": "症例は70歳男性。…", "label": "medical"}; label 1 or
"medical" for medical text, 0 or "general" for the rest. Lines that are not such an object are
skipped and counted by reason (their text is never printed).

use the model in a recipe:
  - use: medical_domain
    model: /path/to/my_domain.bin
    min_score: 0.5
"""


def add_train_domain_parser(sub) -> None:
    p = sub.add_parser(
        "train-domain",
        help="train the medical_domain step's classifier on your labelled medical/general JSONL",
        description="Train a medical-vs-general logistic regression on hashed MeCab words and character "
        "bigrams (deterministic: the same input and seed give the same file), evaluate it on a held-out "
        "split and write it for the medical_domain step.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_input(
        p, "FILE", "labelled JSONL file(s), read in the order given; e.g. --input med.jsonl general.jsonl"
    )
    add_output(p, "MODEL", "model file to write; e.g. --output my_domain.bin")
    p.add_argument(
        "--text-field",
        default="text",
        metavar="NAME",
        help="field holding the text (default text); e.g. --text-field body",
    )
    p.add_argument(
        "--label-field",
        default="label",
        metavar="NAME",
        help="field holding the label: 1/'medical' or 0/'general' (default label); e.g. --label-field y",
    )
    p.add_argument(
        "--group-field",
        metavar="NAME",
        help="records with the same value of this field are held out together, e.g. the paragraphs of one "
        "article (default: records with the same text); e.g. --group-field title",
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=0.2,
        metavar="FRACTION",
        help="share of each class's groups (see --group-field) held out for evaluation, in [0, 0.9]; the model "
        "is trained on the rest (default 0.2; 0 trains on everything and prints no metrics); e.g. --holdout 0.1",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the held-out split and of the --floor auto folds (default 0); e.g. --seed 3",
    )
    p.add_argument(
        "--floor",
        default="auto",
        metavar="SCORE",
        help="the model's recommended min_score, at which held-out recall and precision are reported: a "
        "number in [0, 1], or auto (default): chosen by 5-fold cross-validation on the training split "
        "only, the floor of 0.05, 0.10, ..., 0.95 that keeps most medical and least general text "
        "(largest medical kept minus general kept); e.g. --floor 0.5",
    )
    p.add_argument(
        "--bits",
        type=int,
        default=18,
        metavar="N",
        help="hashed feature space of 2^N weights, 10-24 (default 18: 512 KB of float16 before "
        "compression); e.g. --bits 20 for millions of documents",
    )
    p.add_argument(
        "--l2",
        type=float,
        default=1e-4,
        metavar="X",
        help="L2 regularization, >= 0 (default 1e-4); larger gives smoother scores; e.g. --l2 3e-4",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=300,
        metavar="N",
        help="full-batch gradient steps, >= 1 (default 300); e.g. --iterations 600",
    )


CV_FOLDS = 5


def _check(args) -> None:
    from jmedcorpus.domain.model import MAX_BITS, MIN_BITS

    checks = (
        (0.0 <= args.holdout <= 0.9, f"--holdout must be in [0, 0.9], got {args.holdout}"),
        (MIN_BITS <= args.bits <= MAX_BITS, f"--bits must be in [{MIN_BITS}, {MAX_BITS}], got {args.bits}"),
        (args.l2 >= 0.0, f"--l2 must be >= 0, got {args.l2}"),
        (args.iterations >= 1, f"--iterations must be >= 1, got {args.iterations}"),
    )
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    if args.floor != "auto":
        try:
            args.floor = float(args.floor)
        except ValueError:
            args.floor = -1.0
        if not 0.0 <= args.floor <= 1.0:
            raise UserError("--floor must be auto or a number in [0, 1]; e.g. --floor 0.5")
    for path in args.input:
        if not os.path.isfile(path):
            raise UserError(f"--input {path}: no such file; give labelled JSONL files")
    folder = os.path.dirname(os.path.abspath(args.output))
    if os.path.isdir(args.output):
        raise UserError(
            f"--output {args.output} is a folder; give a file name such as {args.output}/domain.bin"
        )
    if not os.path.isdir(folder):
        raise UserError(f"--output {args.output}: folder {folder} does not exist; create it first")


def _featurize(texts: list[str], bits: int) -> list[np.ndarray]:
    """Feature rows of the texts as the build's steps see them: normalized, then MeCab."""
    from jmedcorpus.domain.features import feature_indices
    from jmedcorpus.text.mecab import get_tokenizer
    from jmedcorpus.text.normalize import normalize_text

    tokenizer = get_tokenizer()
    rows = []
    for text in texts:
        text = normalize_text(text)
        rows.append(feature_indices(text, tokenizer.word_tokenize(text), bits))
    return rows


def _classes(y: np.ndarray) -> str:
    return f"{len(y):,} (medical {int(y.sum()):,}, general {int((y == 0).sum()):,})"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _auto_floor(rows, labels, groups, seed: int, fit_args: dict, training: dict) -> float:
    """``--floor auto``: cross-validation on the training split only; recorded in ``training``."""
    from jmedcorpus.domain.train import cv_floor

    if min(len({g for g, y in zip(groups, labels) if y == c}) for c in (0, 1)) < CV_FOLDS:
        raise UserError(f"--floor auto needs {CV_FOLDS} groups of each class to train on; give --floor 0.5")
    floor, oof = cv_floor(rows, labels, groups, k=CV_FOLDS, seed=seed, **fit_args)
    training["floor_chosen_by"] = {"method": "group k-fold on the training split", "floor": floor, **oof}
    print(
        f"floor {floor} (chosen by {CV_FOLDS}-fold cross-validation on the training split: out of fold, "
        f"medical kept {_pct(oof['medical_kept'])}, general kept {_pct(oof['general_kept'])})"
    )
    return floor


def cmd_train_domain(args) -> int:
    from jmedcorpus.domain.labelled import read_labelled
    from jmedcorpus.domain.model import save_model
    from jmedcorpus.domain.train import fit, holdout_mask, rates, roc_auc

    _check(args)
    data = read_labelled(args.input, args.text_field, args.label_field, args.group_field)
    rows = _featurize(data.texts, args.bits)
    usable = np.array([len(r) > 0 for r in rows], dtype=bool)
    if (~usable).any():
        data.skipped["no_content_words"] += int((~usable).sum())  # digits, symbols, hiragana only
    rows = [r for r, ok in zip(rows, usable) if ok]
    labels = np.array(data.labels, dtype=np.int64)[usable]
    groups = [g for g, ok in zip(data.groups, usable) if ok]
    skipped = ", ".join(f"{k} {v:,}" for k, v in data.skipped.most_common())
    print(f"read {len(rows) + sum(data.skipped.values()):,} records; skipped {skipped or 'none'}")
    if not labels.any() or labels.all():
        raise UserError(
            f"need both medical (1) and general (0) records with field {args.label_field!r}; "
            f"usable: {int(labels.sum()):,} medical, {int((labels == 0).sum()):,} general"
        )
    held = holdout_mask(groups, labels, args.holdout, args.seed)
    train, test = labels[~held], labels[held]
    if not train.any() or train.all() or (held.any() and (not test.any() or test.all())):
        raise UserError("too few records (or groups) of a class to split: lower --holdout or give more data")
    print(
        f"train {_classes(train)}; held out {_classes(test)} (--holdout {args.holdout}, --seed {args.seed})"
    )
    training = {
        "input_sha256": data.sha256,
        "records": {"train": len(train), "train_medical": int(train.sum()), "held_out": len(test)},
        "holdout": args.holdout,
        "seed": args.seed,
        "group_field": args.group_field,
        "l2": args.l2,
        "iterations": args.iterations,
    }
    train_rows = [r for r, h in zip(rows, held) if not h]
    fit_args = {"bits": args.bits, "l2": args.l2, "iterations": args.iterations}
    if args.floor == "auto":
        train_groups = [g for g, h in zip(groups, held) if not h]
        args.floor = _auto_floor(train_rows, train, train_groups, args.seed, fit_args, training)
    model = fit(train_rows, train, training=training, **fit_args)
    if held.any():
        scores = [model.score_indices(r) for r, h in zip(rows, held) if h]
        at = rates(scores, test, args.floor)
        training["held_out_metrics"] = {"roc_auc": roc_auc(scores, test), "floor": args.floor, **at}
        print(
            f"held-out ROC AUC {roc_auc(scores, test):.4f}; at floor {args.floor}: medical kept (recall) "
            f"{_pct(at['medical_kept'])}, general kept {_pct(at['general_kept'])}, precision {_pct(at['precision'])}"
        )
    else:
        print("nothing held out (--holdout 0): no held-out metrics")
    model = dataclasses.replace(model, floor=args.floor, training=training)
    save_model(model, args.output)
    with open(args.output, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"wrote {args.output} ({os.path.getsize(args.output):,} bytes, sha256 {digest})")
    return 0
