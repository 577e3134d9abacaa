"""Deterministic training of the medical-domain model, its held-out split and metrics.

Logistic regression with L2, fitted by full-batch gradient descent with Nesterov momentum for a
fixed number of iterations: no sampling, no threads, sums in a fixed order (``np.add.reduceat``,
``np.bincount``), so the same data gives the same weights bit for bit on the same NumPy. The two
classes weigh the same in the loss whatever their counts, so 0.5 is the natural cut. Each
document is a row of ``SCALE / n`` on its ``n`` distinct features: the saved weights are
``SCALE`` times the fitted ones and the model scores the plain mean weight
(:class:`jmedcorpus.domain.model.DomainModel`). ``SCALE`` only preconditions the descent (with
features of 1/n, hundreds of times smaller than the bias, a fixed step converges slowly); 300
iterations reach the held-out metrics of 1,000 on the shared data.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jmedcorpus.domain.model import DomainModel, rounded

SCALE = 20.0
LEARNING_RATE = 4.0
MOMENTUM = 0.9
DEFAULT_L2 = 1e-4
DEFAULT_ITERATIONS = 300
DEFAULT_BITS = 18


def holdout_mask(groups: Sequence[str], labels: Sequence[int], fraction: float, seed: int) -> np.ndarray:
    """Which records are held out: ``fraction`` of each class's groups (rounded, at least one
    when ``fraction`` > 0), drawn in a seeded order of the sorted distinct groups, with all their
    records. Groups are equal texts, or whatever ``--group-field`` names (the paragraphs of one
    article): near-copies and topics stay on one side. Counting groups, not records, as
    scikit-learn's ``GroupShuffleSplit`` does, holds out many topics even when one is large. A
    group counts for the class of its first record.

    >>> holdout_mask(["a", "a", "b", "c", "d", "e"], [1, 1, 1, 0, 0, 0], 0.5, 0).tolist()
    [True, True, False, True, False, True]
    """
    first: dict[str, int] = {}
    for g, y in zip(groups, np.asarray(labels).tolist()):
        first.setdefault(g, y)
    held: set[str] = set()
    for y in (0, 1):
        order = sorted(g for g, label in first.items() if label == y)
        random.Random(seed).shuffle(order)
        n = round(fraction * len(order))
        held.update(order[: max(n, 1) if fraction > 0 and len(order) > 1 else n])
    return np.array([g in held for g in groups], dtype=bool)


@dataclass
class Rows:
    """Feature rows as flat arrays: ``indices[starts[i]:starts[i+1]]`` are row ``i``'s features."""

    indices: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, rows: Sequence[np.ndarray]) -> Rows:
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        if (lengths == 0).any():
            raise ValueError("every row needs at least one feature")
        starts = np.concatenate([[0], np.cumsum(lengths)])
        return cls(np.concatenate(list(rows)).astype(np.int64), starts)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)


def fit(
    rows: Sequence[np.ndarray],
    labels: Sequence[int],
    *,
    bits: int,
    l2: float = DEFAULT_L2,
    iterations: int = DEFAULT_ITERATIONS,
    training: dict | None = None,
) -> DomainModel:
    """Fit the model on feature rows (:func:`jmedcorpus.domain.features.feature_indices`, none
    empty) with 0/1 ``labels`` (both present); weights rounded to float16 as the file stores them."""
    y = np.asarray(labels, dtype=np.float64)
    if not 0 < y.sum() < len(y):
        raise ValueError("training needs documents of both classes")
    data = Rows.of(rows)
    values = SCALE / data.lengths
    flat_values = np.repeat(values, data.lengths)
    share = y.mean()
    weight = np.where(y == 1, 0.5 / share, 0.5 / (1 - share)) / len(y)  # each class half the loss
    w = np.zeros(1 << bits)
    b = 0.0
    step_w = np.zeros_like(w)
    step_b = 0.0
    for _ in range(iterations):
        look_w = w + MOMENTUM * step_w
        look_b = b + MOMENTUM * step_b
        z = np.add.reduceat(look_w[data.indices], data.starts[:-1]) * values + look_b
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the sigmoid, without exp overflow
        g = (p - y) * weight
        grad_w = np.bincount(data.indices, weights=flat_values * np.repeat(g, data.lengths), minlength=len(w))
        step_w = MOMENTUM * step_w - LEARNING_RATE * (grad_w + l2 * look_w)
        step_b = MOMENTUM * step_b - LEARNING_RATE * float(g.sum())
        w += step_w
        b += step_b
    return DomainModel(rounded(w * SCALE), float(b), bits, training=dict(training or {}))


def group_folds(groups: Sequence[str], labels: Sequence[int], k: int, seed: int) -> np.ndarray:
    """Fold number (0..k-1) of each record: each class's groups, in a seeded order of the sorted
    distinct groups, dealt to the folds in turn (all records of a group in one fold).

    >>> group_folds(["a", "a", "b", "c", "d"], [1, 1, 1, 0, 0], 2, 0).tolist()
    [0, 0, 1, 0, 1]
    """
    first: dict[str, int] = {}
    for g, y in zip(groups, np.asarray(labels).tolist()):
        first.setdefault(g, y)
    fold: dict[str, int] = {}
    for y in (0, 1):
        order = sorted(g for g, label in first.items() if label == y)
        random.Random(seed).shuffle(order)
        fold.update((g, i % k) for i, g in enumerate(order))
    return np.array([fold[g] for g in groups], dtype=np.int64)


FLOOR_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


def cv_floor(
    rows: Sequence[np.ndarray],
    labels: Sequence[int],
    groups: Sequence[str],
    *,
    k: int = 5,
    seed: int = 0,
    **fit_args,
) -> tuple[float, dict]:
    """The floor to recommend, chosen without the held-out data: ``k``-fold cross-validation by
    group on the training records; of the floors 0.05, 0.10, ..., 0.95, the one where the
    out-of-fold scores give the largest medical kept minus general kept (the middle one of
    equals). Returns it and the out-of-fold rates there."""
    y = np.asarray(labels)
    folds = group_folds(groups, y, k, seed)
    scores = np.zeros(len(y))
    for f in range(k):
        test = folds == f
        model = fit([r for r, t in zip(rows, test) if not t], y[~test], **fit_args)
        scores[test] = [model.score_indices(r) for r, t in zip(rows, test) if t]
    gain = [(scores[y == 1] >= x).mean() - (scores[y == 0] >= x).mean() for x in FLOOR_GRID]
    best = [x for x, g in zip(FLOOR_GRID, gain) if g >= max(gain) - 1e-12]
    floor = best[len(best) // 2]
    return floor, {"folds": k, "roc_auc": roc_auc(scores, y), **rates(scores, y, floor)}


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Probability that a random positive scores above a random negative (ties count half).

    >>> roc_auc([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]), roc_auc([0.5, 0.5], [1, 0])
    (1.0, 0.5)
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    n1, n0 = int(y.sum()), int((~y).sum())
    if not n1 or not n0:
        return float("nan")
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]  # 1-based, ties averaged
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def rates(scores: Sequence[float], labels: Sequence[int], floor: float) -> dict:
    """At ``floor`` (kept when score >= floor): share of medical kept (recall), share of general
    kept, and precision (medical share of what is kept; depends on the class mix).

    >>> rates([0.9, 0.6, 0.4, 0.1], [1, 1, 1, 0], 0.5)
    {'medical_kept': 0.6666666666666666, 'general_kept': 0.0, 'precision': 1.0}
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    kept = s >= floor
    return {
        "medical_kept": float(kept[y].mean()) if y.any() else float("nan"),
        "general_kept": float(kept[~y].mean()) if (~y).any() else float("nan"),
        "precision": float(y[kept].mean()) if kept.any() else float("nan"),
    }


def best_floor(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The floor that maximizes medical kept minus general kept (Youden's J); the lowest such.

    >>> best_floor([0.9, 0.6, 0.4, 0.1], [1, 1, 0, 0])
    0.6
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    floors = np.unique(s)
    pos, neg = np.sort(s[y]), np.sort(s[~y])
    kept_pos = (len(pos) - np.searchsorted(pos, floors)) / len(pos)
    kept_neg = (len(neg) - np.searchsorted(neg, floors)) / len(neg)
    return float(floors[np.argmax(kept_pos - kept_neg)])  # argmax: the first, lowest, of equals
