"""The ``minhash_dedup`` step: remove near-duplicates (reprints, versions with a sentence edited,
width variants, a header added) across the whole corpus.

How ``jmedcorpus build`` runs it, as Ray stages with bounded memory per task:

1. **Signatures**, in the per-unit tasks: each surviving document's shingles
   (:mod:`jmedcorpus.dedup.shingles`) → a datasketch MinHash signature
   (:mod:`jmedcorpus.dedup.signatures`), saved per unit (``minhash-sig.npy``, 4 bytes ×
   ``num_perm`` per document) with the document's length; each band key goes to one of
   ``n_buckets`` files by its hash (a shuffle, not one dictionary of the corpus).
2. **Buckets**, one task each: equal band keys give candidate pairs
   (:mod:`jmedcorpus.dedup.lsh`), verified by estimated Jaccard; documents an earlier dedup step
   removed are left out.
3. **Clusters**, one task: connected components over the verified pairs and the keep rule
   (:mod:`jmedcorpus.dedup.components`): the longest document, then the smallest id.

Every removed document goes to ``removed/minhash_dedup/`` with ``duplicate_of`` (the kept id),
``cluster`` and, in ``signals``, the estimated Jaccard to the kept document and the cluster size.
"""

from __future__ import annotations

import glob
import json
import os
import tracemalloc
from typing import ClassVar

import numpy as np

from jmedcorpus.constants import DEDUP_NEAR_DUPLICATE
from jmedcorpus.dedup.components import Clusters, choose_keepers, components
from jmedcorpus.dedup.lsh import estimated_jaccard, verified_pairs
from jmedcorpus.dedup.shingles import char_shingles, token_shingles
from jmedcorpus.dedup.signatures import band_keys, lsh_bands, signatures, signed_rows
from jmedcorpus.dedup.stage import (
    Corpus,
    GlobalStep,
    Runner,
    StageResult,
    UnitArrays,
    bucket_calls,
    bucket_entries,
    write_dups,
)
from jmedcorpus.io.parquet import atomic_save_npy, save_partitioned
from jmedcorpus.registry import register_step

SHINGLE_KINDS = ("char", "mecab")
BATCH_DOCS = 512  # documents shingled and signed together: amortizes numpy call overhead
BAND_ENTRY = np.dtype([("key", "<u8"), ("row", "<u4")])


@register_step("minhash_dedup")
class MinhashDedup(GlobalStep):
    """Drop near-duplicates: documents whose shingle sets have Jaccard similarity of about
    ``threshold`` or more with another document (reason ``dedup_near_duplicate``), keeping the
    longest of each cluster, then the smallest id.

    Args:
        threshold: Jaccard similarity at which two documents count as duplicates (default 0.6).
            Banding is chosen for it by datasketch's ``MinHashLSH``; with ``verify`` a candidate
            pair must also reach it by estimated Jaccard.
        shingle: ``char`` (character n-grams of the normalized text, default) or ``mecab``
            (n-grams of MeCab tokens, reusing the ``mecab`` step's tokens when it ran).
        n: n-gram size (default 5 characters; 3 is a good size for MeCab tokens).
        num_perm: MinHash permutations (default 128; more is more accurate and slower).
        seed: seed of the permutations; signatures are comparable only with the same seed.
        verify: keep only candidate pairs whose estimated Jaccard reaches ``threshold``
            (default on: it removes pairs that banding lets through below the threshold).
        false_positive_weight: weight of false positives against false negatives when
            datasketch picks bands × rows (default 0.1, giving 25 × 5 at 0.6: banding errs
            towards candidates, and verification removes the false ones; datasketch's own 0.5
            missed 3 % of the planted copies that 0.1 finds).

    Why these defaults (``python bench/dedup_accuracy.py``: 2,150 real case reports and exam
    questions plus 934 planted copies, scored against brute-force exact Jaccard): character
    5-grams at 0.6 remove 97.0 % of the copies and no distinct document (precision 100 %);
    MeCab-token 3-grams reach one point more but cost MeCab (3-4x slower when the ``mecab`` step did not
    run) and tie the result to the dictionary version (98.3 %); 0.5 finds 98.9 % but is one template
    phrase away from merging distinct short exam questions, and 0.7 misses 5 % (a header line on
    a 100-character question already drops its Jaccard below 0.7).
    """

    name = "near-duplicate dedup (MinHash LSH)"
    signal_fields: ClassVar[dict[str, str]] = {}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("near_duplicate_jaccard", "min", "threshold", "estimated Jaccard to the kept document"),
    )
    # on the removed records only, written by the clustering stage
    other_signals: ClassVar[tuple[str, ...]] = ("near_duplicate_jaccard", "cluster_size")
    reason = DEDUP_NEAR_DUPLICATE

    def __init__(
        self,
        *,
        threshold: float = 0.6,
        shingle: str = "char",
        n: int = 5,
        num_perm: int = 128,
        seed: int = 1,
        verify: bool = True,
        false_positive_weight: float = 0.1,
    ) -> None:
        super().__init__()
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
        if shingle not in SHINGLE_KINDS:
            raise ValueError(f"shingle must be one of {', '.join(SHINGLE_KINDS)}, got {shingle!r}")
        if not 1 <= n <= 32:
            raise ValueError(f"n must be between 1 and 32, got {n}")
        if not 16 <= num_perm <= 1024:
            raise ValueError(f"num_perm must be between 16 and 1024, got {num_perm}")
        self.threshold, self.shingle, self.n = threshold, shingle, n
        self.num_perm, self.seed, self.verify = num_perm, seed, verify
        if not 0.0 < false_positive_weight < 1.0:
            raise ValueError(
                f"false_positive_weight must be between 0 and 1 (exclusive), got {false_positive_weight}"
            )
        self.false_positive_weight = false_positive_weight
        self.bands, self.rows = lsh_bands(threshold, num_perm, false_positive_weight)

    # --- shared by the build and by direct use ---------------------------------------------
    def prepare(self, text: str):
        """What a document contributes to its batch: the text, or its MeCab tokens (taken now,
        while the tokenizer still remembers the ``mecab`` step's tokens of this text)."""
        if self.shingle == "char":
            return text
        from jmedcorpus.text.mecab import get_tokenizer

        return get_tokenizer().word_tokenize(text)

    def sign(self, prepared: list) -> np.ndarray:
        """MinHash signatures of a batch of prepared documents, ``(len, num_perm)`` uint32."""
        if self.shingle == "char":
            shingles = char_shingles(prepared, self.n)
        else:
            shingles = token_shingles(prepared, self.n)
        return signatures(shingles, len(prepared), self.num_perm, self.seed)

    def collector(self, unit_dir: str, n_buckets: int) -> MinhashCollector:
        """The per-unit part of the build (stage 1 in the module docstring)."""
        return MinhashCollector(self, unit_dir, n_buckets)

    def run_stage(self, name: str, corpus: Corpus, n_buckets: int, work: str, run: Runner) -> StageResult:
        """Stages 2 and 3 of the module docstring: one task per band bucket, then one clustering task."""
        dups_dir, edges_dir = os.path.join(work, f"dups-{name}"), os.path.join(work, f"edges-{name}")
        threshold = self.threshold if self.verify else None
        buckets = run(
            minhash_bucket, bucket_calls(corpus, n_buckets, threshold, edges_dir), f"{name} buckets"
        )
        clusters = run(
            minhash_clusters,
            [("clusters", (corpus.units, corpus.bases, edges_dir, dups_dir))],
            f"{name} clusters",
        )
        details = {
            "bands": self.bands,
            "rows": self.rows,
            "band_entries": sum(b["entries"] for b in buckets.values()),
            "candidate_pairs": sum(b["candidates"] for b in buckets.values()),
            **clusters["clusters"],
        }
        return StageResult(name, self, dups_dir, details)

    def run(self, data, rank: int = 0, world_size: int = 1):
        """Direct use as a datatrove step: deduplicate the stream in memory with the same
        signatures, verification and keep rule as the build (the stream is buffered)."""
        docs = list(data)
        sigs = [np.empty((0, self.num_perm), np.uint32)]
        for i in range(0, len(docs), BATCH_DOCS):
            sigs.append(self.sign([self.prepare(d.text) for d in docs[i : i + BATCH_DOCS]]))
        clusters = cluster_in_memory(
            self, np.concatenate(sigs), [len(d.text) for d in docs], [d.id for d in docs]
        )
        removed = set(clusters.doc[clusters.removed].tolist())
        for i, doc in enumerate(docs):
            self.stat_update("total")
            if i in removed:
                self.stat_update("dropped", f"dropped_{self.reason}")
                continue
            self.stat_update("forwarded")
            yield doc


def cluster_in_memory(step: MinhashDedup, sigs: np.ndarray, chars: list[int], ids: list[str]) -> Clusters:
    """Stages 2 and 3 for signatures held in memory (direct use, benchmarks): all band keys
    form one bucket."""
    signed = signed_rows(sigs)
    keys = band_keys(sigs[signed], step.bands, step.rows)
    edges, _ = verified_pairs(
        keys.ravel(),
        np.repeat(signed, step.bands),
        lambda d: sigs[d],
        step.threshold if step.verify else None,
    )
    nodes, labels = components(edges)
    return choose_keepers(nodes, labels, np.asarray(chars)[nodes], [ids[i] for i in nodes], edges)


class MinhashCollector:
    """Signs a unit's surviving documents in batches and writes, under the unit's directory,
    ``minhash-sig.npy`` (signatures by row), ``minhash-chars.npy`` (characters per row) and
    ``minhash-bands-bNNNN.npy`` (band key and row, partitioned by key into ``n_buckets``)."""

    def __init__(self, step: MinhashDedup, unit_dir: str, n_buckets: int) -> None:
        self.step, self.unit_dir, self.n_buckets = step, unit_dir, n_buckets
        self.pending: list = []
        self.sigs: list[np.ndarray] = []
        self.chars: list[int] = []

    def add(self, row: int, doc, data: bytes) -> None:
        assert row == len(self.chars), "rows are added in order"
        self.chars.append(len(doc.text))
        self.pending.append(self.step.prepare(doc.text))
        if len(self.pending) >= BATCH_DOCS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.sigs.append(self.step.sign(self.pending))
            self.pending = []

    def close(self) -> dict:
        self._flush()
        sigs = np.concatenate(self.sigs) if self.sigs else np.empty((0, self.step.num_perm), np.uint32)
        atomic_save_npy(sigs, os.path.join(self.unit_dir, "minhash-sig.npy"))
        atomic_save_npy(
            np.array(self.chars, dtype=np.int64), os.path.join(self.unit_dir, "minhash-chars.npy")
        )
        signed = signed_rows(sigs)
        keys = band_keys(sigs[signed], self.step.bands, self.step.rows)
        entries = np.empty(keys.size, dtype=BAND_ENTRY)
        entries["key"] = keys.ravel()
        entries["row"] = np.repeat(signed, self.step.bands)
        pattern = os.path.join(self.unit_dir, "minhash-bands-b{:04d}.npy")
        return {"buckets": save_partitioned(entries, self.n_buckets, pattern), "signed": len(signed)}


def minhash_bucket(
    bucket: int,
    units: list[tuple[int, str]],
    bases: np.ndarray,
    gone: np.ndarray,
    threshold: float | None,
    out_dir: str,
) -> dict:
    """Candidate pairs of one band-key bucket, verified; saved as ``edges-bNNNN.npy``."""
    keys, docs = bucket_entries(f"minhash-bands-b{bucket:04d}.npy", units, bases, gone)
    pairs, candidates = verified_pairs(keys, docs, UnitArrays(units, bases), threshold)
    atomic_save_npy(pairs, os.path.join(out_dir, f"edges-b{bucket:04d}.npy"))
    return {"entries": len(keys), "candidates": candidates, "pairs": len(pairs)}


def minhash_clusters(units: list[tuple[int, str]], bases: np.ndarray, edges_dir: str, dups_dir: str) -> dict:
    """Connected components of all verified pairs, the keep rule, and the dups table."""
    # measured, not estimated: every numpy array and Python object of the clustering (tracemalloc
    # sees numpy's allocations); Arrow is only used to read one unit's id column at a time
    tracemalloc.start()
    files = sorted(glob.glob(os.path.join(edges_dir, "edges-b*.npy")))
    edges = np.concatenate([np.load(f) for f in files] or [np.empty((0, 2), np.int64)])
    edges = np.unique(edges, axis=0) if len(edges) else edges  # a pair can match in several bands
    nodes, labels = components(edges)
    arrays = UnitArrays(units, bases)
    chars = arrays.gather(nodes, "minhash-chars.npy") if len(nodes) else np.empty(0, np.int64)
    ids = arrays.ids(nodes)
    clusters = choose_keepers(nodes, labels, chars, ids, edges)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gone = clusters.removed
    doc, keeper = clusters.doc[gone], clusters.keeper[gone]
    similarity = estimated_jaccard(arrays(doc), arrays(keeper)) if len(doc) else np.empty(0)
    pos, rows = arrays.unit_rows(doc)
    unit_index = arrays.unit_index(pos)
    write_dups(
        {
            "unit": unit_index,
            "row": rows,
            "kept_id": [ids[i] for i in np.searchsorted(nodes, keeper).tolist()],
            "cluster": clusters.cluster[gone],
            "signals": [
                json.dumps({"near_duplicate_jaccard": round(float(j), 4), "cluster_size": int(s)})
                for j, s in zip(similarity, clusters.size[gone])
            ],
        },
        os.path.join(dups_dir, "dups-clusters.parquet"),
    )
    total = int(bases[-1])
    return {
        "verified_pairs": len(edges),
        "clustered_documents": len(nodes),
        "clusters": int(labels.max() + 1) if len(labels) else 0,
        "components_peak_bytes": int(peak),
        "components_bytes_per_document": round(peak / max(total, 1), 2),
    }
