"""Passages for question generation: exact spans, token bounds, medical density, seeded selection,
reading training shards."""

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import read_jsonl

from jmedcorpus.synth.passages import (
    SKIP_REASONS,
    Passage,
    pack_sentences,
    passages_from_shards,
    select_passages,
    split_passages,
)
from jmedcorpus.text.mecab import get_tokenizer
from jmedcorpus.text.medical import medical_density
from jmedcorpus.text.sentences import sentence_spans

# Everyday Japanese, written for these tests: weather, politics, sport.
EVERYDAY = (
    "明日の東京は晴れのち曇りで、最高気温は二十五度の予想です。"
    "週末は全国的に雨が降りやすく、お出かけの際は傘をお持ちください。"
    "首相は午後の記者会見で、来年度の予算案について説明しました。"
    "昨夜の試合では、地元のチームが延長戦の末に逆転で勝ちました。"
)


@pytest.fixture(scope="module")
def reports(data_dir) -> list[dict]:
    """The 12 distinct case reports (the fixture also holds 2 copies under other ids)."""
    return [r for r in read_jsonl(data_dir / "case_reports_ja.jsonl") if "-ner-" not in r["id"]]


def sentence_counts(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    spans = sentence_spans(text)
    return spans, [len(get_tokenizer().word_tokenize(text[s:e])) for s, e in spans]


@pytest.mark.parametrize("bounds", [(64, 384), (16, 64), (0, 40)])
def test_spans_are_exact_ordered_whole_sentences(reports, bounds):
    min_tokens, max_tokens = bounds
    for r in reports:
        text = r["text"]
        spans, counts = sentence_counts(text)
        starts = {s: i for i, (s, _) in enumerate(spans)}
        ends = {e: i for i, (_, e) in enumerate(spans)}
        passages = split_passages(r["id"], text, min_tokens=min_tokens, max_tokens=max_tokens)
        assert passages
        previous_end = 0
        for index, p in enumerate(passages):
            assert (p.doc_id, p.index, p.key) == (r["id"], index, f"{r['id']}#{index}")
            assert text[p.start : p.end] == p.text
            assert previous_end <= p.start < p.end
            previous_end = p.end
            assert p.start in starts and p.end in ends  # cut only at sentence boundaries
            assert p.tokens == sum(counts[starts[p.start] : ends[p.end] + 1])


@pytest.mark.parametrize("bounds", [(64, 384), (16, 64), (0, 40)])
def test_token_bounds_and_long_sentences_kept_alone(reports, bounds):
    min_tokens, max_tokens = bounds
    long_seen = 0
    for r in reports:
        spans, counts = sentence_counts(r["text"])
        passages = split_passages(r["id"], r["text"], min_tokens=min_tokens, max_tokens=max_tokens)
        by_span = {(p.start, p.end): p for p in passages}
        for p in passages:
            assert p.tokens >= min_tokens
            if p.tokens > max_tokens:  # only a single over-long sentence
                assert (p.start, p.end) in spans
        for span, c in zip(spans, counts):
            if c > max_tokens:  # never dropped, never cut
                assert by_span[span].tokens == c
                long_seen += 1
    assert long_seen or max_tokens == 384  # the small bounds do meet sentences over the limit


def test_short_documents_give_no_passages(data_dir):
    questions = read_jsonl(data_dir / "igakuqa_ja.jsonl")  # 35-80 MeCab tokens each
    for q in questions:
        n = len(get_tokenizer().word_tokenize(q["text"]))
        assert split_passages(q["id"], q["text"], min_tokens=n + 1) == []
        (whole,) = split_passages(q["id"], q["text"], min_tokens=n, max_tokens=384)
        assert whole.tokens == n
    assert split_passages("empty", "") == []
    assert split_passages("blank", " \n\u3000\n") == []
    assert split_passages("one", "発熱あり。") == []


def test_packing_rule_on_numbers():
    # greedy; the short tail takes the last sentence of the passage before
    assert pack_sentences([30, 30, 30, 30, 20], min_tokens=25, max_tokens=64) == [(0, 2), (2, 3), (3, 5)]
    # the tail cannot take a sentence without going over max_tokens: dropped
    assert pack_sentences([60, 60, 10], min_tokens=25, max_tokens=64) == [(0, 1), (1, 2)]
    # the passage before would fall under min_tokens: tail dropped, passage before untouched
    assert pack_sentences([20, 40, 10], min_tokens=25, max_tokens=64) == [(0, 2)]
    # an over-long sentence alone; the short run before it borrows like a tail
    assert pack_sentences([30, 30, 10, 100, 40], min_tokens=25, max_tokens=64) == [
        (0, 1),
        (1, 3),
        (3, 4),
        (4, 5),
    ]
    assert pack_sentences([], min_tokens=1, max_tokens=2) == []
    assert pack_sentences([5, 5], min_tokens=20, max_tokens=64) == []


def test_short_tail_of_a_real_report_keeps_its_text(reports):
    r = next(r for r in reports if r["id"] == "medtxt-cr-0004")  # 433 tokens
    spans, counts = sentence_counts(r["text"])
    greedy = split_passages(r["id"], r["text"], min_tokens=0, max_tokens=384)
    assert greedy[-1].tokens < 100  # the greedy remainder would be short at min_tokens=100
    passages = split_passages(r["id"], r["text"], min_tokens=100, max_tokens=384)
    assert len(passages) == 2 and all(100 <= p.tokens <= 384 for p in passages)
    assert passages[0].start == spans[0][0] and passages[-1].end == spans[-1][1]  # nothing lost
    assert passages[0].end < passages[1].start
    assert sum(p.tokens for p in passages) == sum(counts)


def test_single_sentence_document_longer_than_max_is_one_marked_passage(reports):
    text = "".join(r["text"] for r in reports[:3]).replace("．", "，").replace("\n", "")
    assert len(sentence_spans(text)) == 1
    (p,) = split_passages("long", text, {"source": "x"})
    assert (p.start, p.end, p.text) == (0, len(text), text) and p.tokens > 384
    selected, skipped = select_passages([p], n=None, seed=0)
    assert selected == [] and skipped["too_long"] == 1


def test_long_sentence_inside_a_document(reports):
    long_sentence = reports[0]["text"].replace("．", "，").replace("\n", "") + "．"
    text = reports[1]["text"] + "\n" + long_sentence + "\n" + reports[2]["text"]
    passages = split_passages("mixed", text)
    long = [p for p in passages if p.tokens > 384]
    assert [p.text for p in long] == [long_sentence]
    assert all(64 <= p.tokens <= 384 for p in passages if p not in long)
    assert [p.start for p in passages] == sorted(p.start for p in passages)


def test_medical_density_separates_case_reports_from_everyday_text(reports):
    densities = [p.medical_density for r in reports for p in split_passages(r["id"], r["text"])]
    everyday = medical_density(EVERYDAY)
    assert everyday < 0.05
    assert min(densities) >= 0.1 > everyday
    assert sum(densities) / len(densities) > 0.15
    # the passage's score is the score of its text
    p = split_passages(reports[0]["id"], reports[0]["text"])[0]
    assert p.medical_density == pytest.approx(medical_density(p.text), abs=0.02)


@pytest.fixture(scope="module")
def pool(reports, data_dir) -> list[Passage]:
    """Many small passages: real reports (eligible), plus one of each kind that is skipped."""
    out = [p for r in reports for p in split_passages(r["id"], r["text"], min_tokens=16, max_tokens=64)]
    english = read_jsonl(data_dir / "pubmedqa_en.jsonl")[0]
    out += split_passages("english", english["text"], min_tokens=16, max_tokens=64)[:2]
    out += split_passages("everyday", EVERYDAY, min_tokens=16, max_tokens=64)
    out += split_passages("long", reports[0]["text"].replace("．", "，").replace("\n", ""), min_tokens=16)
    out += split_passages("tiny", "肝機能障害を認めた。", min_tokens=0)
    return out


def select(pool, **kw):
    kw = {"n": None, "seed": 0, "min_tokens": 16, "max_tokens": 64} | kw
    return select_passages(pool, **kw)


def test_selection_counts_every_passage_once(pool):
    everything, skipped = select(pool, min_tokens=20)
    assert set(skipped) == set(SKIP_REASONS)
    assert len(everything) + sum(skipped.values()) == len(pool)
    # the planted ones, and report passages: sentences over 64 tokens, short runs of lab values
    assert skipped["japanese_ratio_low"] >= 2  # english
    assert skipped["medical_density_low"] >= 1  # everyday
    assert skipped["too_long"] >= 1 and skipped["too_short"] >= 1  # long, tiny
    assert skipped["not_sampled"] == 0
    assert {p.doc_id for p in everything}.isdisjoint({"english", "everyday", "long", "tiny"})
    assert len(everything) > 60
    assert everything == sorted(everything, key=lambda p: (p.doc_id, p.index))

    sample, skipped = select(pool, min_tokens=20, n=25)
    assert len(sample) == 25 and skipped["not_sampled"] == len(everything) - 25
    assert len(sample) + sum(skipped.values()) == len(pool)
    assert sample == sorted(sample, key=lambda p: (p.doc_id, p.index))


def test_selection_is_seeded_and_independent_of_input_order(pool):
    sample, skipped = select(pool, n=30, seed=7)
    shuffled = list(pool)
    random.Random(3).shuffle(shuffled)
    assert select(shuffled, n=30, seed=7) == (sample, skipped)
    assert select(iter(reversed(pool)), n=30, seed=7) == (sample, skipped)  # any iterable
    other, _ = select(pool, n=30, seed=8)
    assert len(other) == 30 and {p.key for p in other} != {p.key for p in sample}
    larger, _ = select(pool, n=60, seed=7)
    assert {p.key for p in sample} < {p.key for p in larger}  # a larger n adds to the sample
    everything, _ = select(pool, n=None)
    assert select(pool, n=len(pool), seed=7)[0] == everything
    assert select(pool, n=0, seed=7) == ([], {**skipped, "not_sampled": len(everything)})


def test_selection_rejects_bad_arguments(pool):
    with pytest.raises(ValueError, match="given twice"):
        select(pool + pool[:1])
    with pytest.raises(ValueError, match="n must be"):
        select(pool, n=-1)
    with pytest.raises(ValueError, match="min_medical_density"):
        select(pool, min_medical_density=1.5)
    with pytest.raises(ValueError, match="max_tokens"):
        select(pool, min_tokens=100, max_tokens=50)
    with pytest.raises(ValueError, match="min_tokens"):
        split_passages("x", "text", min_tokens=-1)


def test_passage_is_hashable_and_signals_are_copied():
    signals = {"source": "medtxt", "chars": 10}
    text = EVERYDAY * 3
    a, b = split_passages("d", text, signals, min_tokens=10, max_tokens=40)[:2]
    assert a.signals == signals and a.signals is not signals and a.signals is not b.signals
    assert len({a, b, a}) == 2


def test_passages_from_shards(tmp_path, reports, data_dir):
    question = read_jsonl(data_dir / "igakuqa_ja.jsonl")[0]  # too short: no passage
    rows = [{"id": r["id"], "text": r["text"], "source": "medtxt_cr"} for r in reports]
    rows.append({"id": question["id"], "text": question["text"], "source": "igakuqa"})
    rows.append({"id": "null-text", "text": None, "source": "x"})
    for row in rows:
        row["chars"] = len(row["text"] or "")
    paths = []
    for k, part in enumerate((rows[:7], rows[7:])):
        paths.append(tmp_path / f"train-{k:05d}.parquet")
        pq.write_table(pa.Table.from_pylist(part), paths[-1], row_group_size=3)

    stats = {}
    got = list(passages_from_shards(paths, batch_size=2, stats=stats))
    expected = [
        p
        for row in rows
        for p in split_passages(
            row["id"], row["text"] or "", {"source": row["source"], "chars": row["chars"]}
        )
    ]
    assert got == expected
    assert [p.signals for p in got] == [p.signals for p in expected]
    assert set(got[0].signals) == {"source", "chars"}
    assert stats == {"documents": 14, "documents_without_passages": 2, "passages": len(expected)}
    first = {row["id"] for row in rows[:7]}
    assert list(passages_from_shards(str(paths[0]))) == [p for p in expected if p.doc_id in first]

    pq.write_table(pa.Table.from_pylist([{"doc": "a", "body": "x"}]), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="no column text, id"):
        list(passages_from_shards([tmp_path / "bad.parquet"]))
    renamed = list(passages_from_shards([tmp_path / "bad.parquet"], text_field="body", id_field="doc"))
    assert renamed == []
