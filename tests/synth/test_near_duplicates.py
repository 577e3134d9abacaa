"""The near-duplicate index of accepted items."""

from __future__ import annotations

from validation_data import OUTPUTS, PASSAGES

from jmedcorpus.synth.near_duplicates import NearDuplicateIndex
from jmedcorpus.synth.parsing import parse_exam
from jmedcorpus.synth.validation import exam_text


def test_the_near_duplicate_is_similar_but_not_identical():
    raws = {r["id"]: r["raw"] for r in OUTPUTS}
    a, b = (exam_text(parse_exam(raws[k])) for k in ("exam-json-valid", "exam-near-duplicate"))
    assert a != b
    index = NearDuplicateIndex()
    index.add(a)
    assert 0.8 <= index.max_similarity(b) < 1.0


def test_near_duplicate_index():
    index = NearDuplicateIndex()
    first = "本症例で胆管炎の再増悪時に追加された薬剤はどれか。\nPSL\nUDCA\nMMF\nLVFX\nCMZ"
    assert index.offer(first) and len(index) == 1
    assert not index.offer(first) and index.max_similarity(first) == 1.0
    assert index.is_duplicate(
        "本症例で胆管炎の再増悪時に追加された薬剤はどれか。\nPSL\nUDCA\nMMF\nLVFX\nCMZ\n"
    )
    other = "本症例で胆管炎の診断時に投与が中止された薬剤はどれか。\nPSL\nUDCA\nニボルマブ\nLVFX\nCMZ"
    assert index.max_similarity(other) < 0.8 and index.offer(other) and len(index) == 2
    assert index.max_similarity("") == 0.0 and index.max_similarity("。、 ") == 0.0


def test_near_duplicate_index_grows():
    index = NearDuplicateIndex()
    texts = [f"{i}歳の男性。{PASSAGES['medtxt-cr-0002'][i * 10 : i * 10 + 40]}" for i in range(70)]
    accepted = [t for t in texts if index.offer(t)]
    assert len(index) == len(accepted) > 64
    assert all(index.is_duplicate(t) for t in accepted)


def test_near_duplicate_threshold_is_a_parameter():
    a = exam_text(parse_exam(next(r["raw"] for r in OUTPUTS if r["id"] == "exam-json-valid")))
    b = exam_text(parse_exam(next(r["raw"] for r in OUTPUTS if r["id"] == "exam-near-duplicate")))
    strict = NearDuplicateIndex(threshold=0.95)
    strict.add(a)
    assert not strict.is_duplicate(b)


def test_banded_candidates_decide_like_a_brute_force_comparison(monkeypatch):
    """Across merges of the band keys into the sorted arrays, every duplicate a comparison with every
    accepted signature finds is found, and the similarity reported for it is the same."""
    import numpy as np

    from jmedcorpus.dedup.lsh import estimated_jaccard

    text = "".join(PASSAGES.values())
    rng = np.random.default_rng(0)
    import jmedcorpus.synth.near_duplicates as module

    monkeypatch.setattr(module, "TAIL_ITEMS", 256)  # several merges in a short test
    index, accepted = NearDuplicateIndex(), []
    for i in range(1500):
        start = int(rng.integers(0, len(text) - 120))
        item = text[start : start + 60 + i % 60]
        if i % 5 == 0 and accepted:  # a re-worded copy of an accepted item
            base = accepted[int(rng.integers(0, len(accepted)))]
            cut = int(rng.integers(0, len(base)))
            item = base[:cut] + "、" + base[cut + 1 :]
        sig = index.signature(item)
        brute = float(estimated_jaccard(index._sigs[: len(index)], sig[None, :]).max()) if len(index) else 0.0
        banded = index.max_similarity(item)
        assert (banded >= 0.8) == (brute >= 0.8)
        if brute >= 0.8:
            assert banded == brute
        if banded < 0.8:
            index.add(item)
            accepted.append(item)
    assert len(index) > 3 * 256 and len(index._keys) > 0  # merged several times
