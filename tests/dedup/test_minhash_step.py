"""The minhash_dedup step: direct use as a datatrove step, its per-unit collector, its settings."""

import numpy as np
import pytest
from conftest import read_jsonl
from datatrove.data import Document

from jmedcorpus.dedup.minhash import BAND_ENTRY, MinhashDedup
from jmedcorpus.recipe import RecipeError, recipe_from_dict


@pytest.fixture(scope="module")
def reports(data_dir):
    return [r for r in read_jsonl(data_dir / "case_reports_ja.jsonl") if "-ner-" not in r["id"]]


def ids_after(step, docs):
    return [d.id for d in step.run(iter(docs))]


def test_drops_a_copy_with_a_footer_and_keeps_distinct_reports(reports):
    docs = [Document(text=r["text"], id=r["id"]) for r in reports]
    docs.append(Document(text=reports[4]["text"] + "\n利益相反：なし。", id="z-copy"))
    kept = ids_after(MinhashDedup(), docs)
    assert len(kept) == len(reports) and "medtxt-cr-0004" not in kept and "z-copy" in kept


@pytest.mark.parametrize("shingle, n", [("char", 5), ("mecab", 3)])
def test_very_short_documents_match_only_when_equal_after_normalization(shingle, n):
    docs = [
        Document(text="発熱。", id="a"),
        Document(text="発熱", id="b"),  # shorter than n: one shingle, equal after normalization
        Document(text="発疹", id="c"),
        Document(text="。、", id="d"),  # nothing to shingle: never a near-duplicate
        Document(text="、。", id="e"),
    ]
    assert ids_after(MinhashDedup(shingle=shingle, n=n), docs) == ["a", "c", "d", "e"]


def test_very_long_documents(reports):
    """A ~1 MB report collection and the same with one report left out are near-duplicates;
    the shorter one goes."""
    long_text = "\n".join(r["text"] for r in reports) * 60
    shorter = "\n".join(r["text"] for r in reports[1:]) * 60
    assert len(long_text) > 600_000
    docs = [Document(text=long_text, id="long"), Document(text=shorter, id="shorter")]
    assert ids_after(MinhashDedup(), docs) == ["long"]


def test_collector_writes_signatures_lengths_and_bucketed_band_keys(tmp_path, reports):
    step = MinhashDedup()
    collector = step.collector(str(tmp_path), n_buckets=4)
    texts = [r["text"] for r in reports] + ["。"]  # the last has no shingles: no band keys
    for row, text in enumerate(texts):
        collector.add(row, Document(text=text, id=str(row)), text.encode())
    info = collector.close()
    sigs = np.load(tmp_path / "minhash-sig.npy")
    assert sigs.shape == (len(texts), 128) and sigs.dtype == np.uint32
    assert (sigs[-1] == 0xFFFFFFFF).all() and info["signed"] == len(texts) - 1
    assert np.load(tmp_path / "minhash-chars.npy").tolist() == [len(t) for t in texts]
    entries = [np.load(tmp_path / f"minhash-bands-b{b:04d}.npy") for b in info["buckets"]]
    assert all(e.dtype == BAND_ENTRY for e in entries)
    assert sum(len(e) for e in entries) == (len(texts) - 1) * step.bands
    for b, e in zip(info["buckets"], entries):
        assert (e["key"] % np.uint64(4) == b).all()
    # the collector's signatures are the step's own
    assert (sigs[:3] == step.sign([step.prepare(t) for t in texts[:3]])).all()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 1.2}, "threshold must be between 0 and 1"),
        ({"shingle": "word"}, "shingle must be one of char, mecab"),
        ({"n": 0}, "n must be between 1 and 32"),
        ({"num_perm": 8}, "num_perm must be between 16 and 1024"),
        ({"thresold": 0.5}, "did you mean 'threshold'?"),
    ],
)
def test_recipe_errors_are_one_line(params, message):
    with pytest.raises(RecipeError) as e:
        recipe_from_dict({"name": "t", "steps": [{"use": "minhash_dedup", **params}]})
    assert message in str(e.value) and "\n" not in str(e.value)
