"""Benchmark contamination, against the IgakuQA sample (the ``contamination`` fixture)."""

from __future__ import annotations

import pickle

import pytest
from conftest import DATA
from validation_data import IGAKUQA, PASSAGES

from jmedcorpus.synth.contamination import ContaminationIndex
from jmedcorpus.text.exam import benchmark_tokens


@pytest.mark.parametrize("rec", IGAKUQA, ids=[r["id"] for r in IGAKUQA])
def test_copied_benchmark_questions_are_contaminated(rec, contamination):
    text = rec["text"]
    assert contamination.overlap(text) == 1.0 and contamination.contaminated(text)
    # the same question typeset with full-width labels and letters, options in another style
    wide = text.replace("a. ", "ａ．").replace("b. ", "ｂ．").replace("c. ", "（ｃ）").replace("G", "Ｇ")
    assert contamination.contaminated(wide)
    stem = text.split("\n")[0]  # a copied stem alone, when long enough to judge
    assert contamination.contaminated(stem) is (len(benchmark_tokens(stem)) >= contamination.n)


@pytest.mark.parametrize("rec_id", sorted(PASSAGES))
def test_case_reports_are_not_contaminated(rec_id, contamination):
    assert contamination.overlap(PASSAGES[rec_id]) == 0.0


def test_template_phrases_alone_are_not_contamination(contamination):
    # "…について正しいのはどれか。" is in every exam; a new question sharing it is not a copy
    assert not contamination.contaminated("免疫関連有害事象としての胆管炎について正しいのはどれか。")


def test_contamination_index_parameters_and_pickle(tmp_path, contamination):
    any_gram = ContaminationIndex.from_texts([r["text"] for r in IGAKUQA], n=4, min_fraction=0.0)
    assert any_gram.contaminated("睡眠について正しいのはどれか。")  # "について正しいのは…" is shared
    assert not ContaminationIndex.from_texts([], n=10).contaminated(IGAKUQA[0]["text"])
    assert not contamination.contaminated("高アンモニア血症")  # shorter than n tokens
    clone = pickle.loads(pickle.dumps(contamination))
    assert len(clone) == len(contamination) and clone.overlap(IGAKUQA[2]["text"]) == 1.0
    with pytest.raises(ValueError, match="n must be"):
        ContaminationIndex.from_texts(["x"], n=0)
    bad = tmp_path / "bench.jsonl"
    bad.write_text(
        '{"text": "睡眠について正しいのはどれか。"}\n{"question": "秘密の症例"}\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"bench.jsonl:2: no string field 'text'") as err:
        ContaminationIndex.from_jsonl(bad)
    assert "秘密" not in str(err.value)
    assert ContaminationIndex.from_jsonl(DATA / "igakuqa_ja.jsonl", n=13).contaminated(IGAKUQA[0]["text"])
