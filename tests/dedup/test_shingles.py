"""Shingles: normalization (width, reflow, punctuation), kept content (dakuten, digits, symbols),
short and empty documents, batch independence, MeCab token shingles, long and astral text."""

import re
import time
import unicodedata

import numpy as np
import pytest
from conftest import DATA, read_jsonl

from jmedcorpus.dedup.shingles import char_shingles, normalized_code_points, token_shingles

N = 5
_CASES = read_jsonl(DATA / "case_reports_ja.jsonl")
REPORTS = [r["text"] for r in _CASES if not r["id"].startswith("medtxt-cr-ner")]  # 12 distinct
QUESTIONS = [r["text"] for r in read_jsonl(DATA / "igakuqa_ja.jsonl")]


def one(text: str, n: int = N) -> np.ndarray:
    return char_shingles([text], n).of(0)


def normalized(text: str) -> str:
    return "".join(map(chr, normalized_code_points(text)))


def _halfwidth_table() -> dict[int, str]:
    """Full-width katakana → half-width, voiced ones as base + ﾞ/ﾟ (the inverse of NFKC)."""
    table = {}
    for cp in range(0xFF66, 0xFF9E):  # ｦ .. ﾝ, ｰ
        half = chr(cp)
        table[ord(unicodedata.normalize("NFKC", half))] = half
        for mark in "\uff9e\uff9f":
            composed = unicodedata.normalize("NFKC", half + mark)
            if len(composed) == 1:
                table[ord(composed)] = half + mark
    return table


HALFWIDTH = _halfwidth_table()


def to_halfwidth_kana(text: str) -> str:
    return text.translate(HALFWIDTH)


def to_ascii_reflowed(text: str) -> str:
    """The same report as another source would typeset it: ASCII instead of full-width, 、。
    instead of ，．, ideographic spaces as ASCII, lines broken elsewhere, spaces after commas."""
    t = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in text)
    t = re.sub(r"\.(?![0-9])", "。", t.replace(",", "、 "))  # a decimal point stays a point
    t = t.replace("\u3000", " ").replace("\n", "")
    return "\n".join(t[i : i + 23] for i in range(0, len(t), 23)) + "\n"


# --- normalization: variants that must give identical shingles ------------------------------


@pytest.mark.parametrize("i", range(len(REPORTS)))
def test_ascii_reflowed_copy_has_identical_shingles(i):
    """Full-width ASCII vs ASCII, ，．vs 、。, reflowed lines and extra spaces: same shingles."""
    variant = to_ascii_reflowed(REPORTS[i])
    assert variant != REPORTS[i]
    assert np.array_equal(one(variant), one(REPORTS[i]))


@pytest.mark.parametrize("i", [i for i, t in enumerate(REPORTS) if "℃" not in t])
def test_halfwidth_katakana_copy_has_identical_shingles(i):
    """Half-width katakana with separate voiced marks (ｶﾞ) shingle as the full-width text."""
    variant = to_halfwidth_kana(REPORTS[i])
    assert "\uff9e" in variant or "\uff9f" in variant
    assert np.array_equal(one(variant), one(REPORTS[i]))


def test_small_width_variants():
    """The documented examples: ＣＲＰ/CRP/crp, ｶﾞｰｾﾞ/ガーゼ, ，．/、。, line breaks and spaces."""
    assert normalized("ＣＲＰ １５．２，ｶﾞｰｾﾞ\nが") == "crp15.2ガーゼが"
    assert (
        normalized("男性．ＣＲＰ") == normalized("男性。CRP") == "男性crp"
    )  # a sentence end is not a decimal point
    assert normalized("ﾊﾟﾙｽｵｷｼﾒｰﾀｰ") == normalized("パルスオキシメーター") == "パルスオキシメーター"
    assert np.array_equal(one("ＣＴで肝腫瘤を認めた．"), one("CTで肝腫瘤を認めた。"))
    assert np.array_equal(one("ct で肝腫瘤を\n認めた"), one("CTで肝腫瘤を認めた。"))
    assert np.array_equal(one("ｶﾞｰｾﾞ交換を行った"), one("ガーゼ交換を行った"))


def test_halfwidth_copy_of_report_with_celsius_has_identical_shingles():
    """Real report medtxt-cr-0007 (contains ３８℃) vs its half-width katakana copy."""
    (report,) = [t for t in REPORTS if "℃" in t]
    assert np.array_equal(one(to_halfwidth_kana(report)), one(report))


def test_halfwidth_voiced_mark_does_not_change_other_characters():
    """Only the katakana changes width: Ⅱ, ㎎, ℃ and µ normalize the same with or without ｶﾞ."""
    assert normalized("Ⅱ型糖尿病に10㎎、37.5℃、5µgでｶﾞｰｾﾞ") == normalized("Ⅱ型糖尿病に10㎎、37.5℃、5µgでガーゼ")


# --- content that must be kept ----------------------------------------------------------------


def _replace_once(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _changed_positions(a: np.ndarray, b: np.ndarray) -> int:
    assert len(a) == len(b)
    return int((a != b).sum())


def test_dakuten_is_kept():
    """ガン/カン and ビ/ヒ are different words; one voiced mark changed in a report → n shingles."""
    assert set(one("ガン")) != set(one("カン"))
    assert one("ビタミン")[0] != one("ヒタミン")[0]
    report = REPORTS[0]
    assert (
        _changed_positions(one(report), one(_replace_once(report, "デュルバルマブ", "テュルバルマブ"))) == N
    )


def test_digits_are_kept_and_an_edited_number_changes_about_n_shingles():
    """７０歳 → ７１歳 changes exactly the n windows over that digit, nothing else."""
    report = REPORTS[0]
    edited = _replace_once(report, "７０歳", "７１歳")
    a, b = one(report), one(edited)
    assert _changed_positions(a, b) == N
    assert len(set(a) ^ set(b)) <= 2 * N
    assert set(one("症例は70歳男性")) != set(one("症例は71歳男性"))


def test_symbols_are_kept():
    """↑/↓ carry meaning: CRP↑ and CRP↓ differ."""
    assert set(one("CRP↑を認めた")) != set(one("CRP↓を認めた"))


# --- short, exact-width and empty documents -------------------------------------------------


def test_shingle_counts_by_length():
    """Fewer than n chars: one shingle; n chars: one; n+k: k+1; empty or only punctuation/space: none."""
    s = char_shingles(
        ["男性", "症例は男", "症例は男性", "症例は70歳男性", "", "。、，． \n\u3000！？「」", "・"], N
    )
    assert [len(s.of(i)) for i in range(7)] == [1, 1, 1, 4, 0, 0, 0]
    assert s.owner.tolist() == sorted(s.owner.tolist())
    assert len(s.hashes) == 7


def test_short_documents_are_distinguished_and_normalized():
    """Short docs get a hash of their whole text: different texts differ, width variants agree."""
    assert one("ＣＴ")[0] == one("CT")[0] == one("c t。")[0]
    shorts = ["CT", "MRI", "男性", "女性", "a", "ab", "abc", "abcd", "1", "12"]
    hashes = [one(t)[0] for t in shorts]
    assert len(set(hashes)) == len(shorts)


def test_empty_batch_and_empty_token_lists():
    """No documents, or documents without tokens, give no shingles and no errors."""
    assert len(char_shingles([], N).hashes) == 0
    s = token_shingles([[], ["、", "。"], []], 3)
    assert len(s.hashes) == 0 and all(len(s.of(i)) == 0 for i in range(3))


# --- batch independence -------------------------------------------------------------------------

MIXED = [
    *REPORTS,
    "",
    "男性",
    *QUESTIONS,
    "。、",
    to_halfwidth_kana(REPORTS[3]),
    "𠮷野家で食事後に腹痛",
    "発熱\ud800あり",  # lone surrogate
    "abcd",
]


@pytest.mark.parametrize("n", [1, 3, 5, 9])
def test_batch_equals_one_document_at_a_time(n):
    """A document's hashes are the same in any batch, in any position (workers batch differently)."""
    alone = [char_shingles([t], n).of(0) for t in MIXED]
    batch = char_shingles(MIXED, n)
    order = np.random.default_rng(n).permutation(len(MIXED))
    shuffled = char_shingles([MIXED[i] for i in order], n)
    for i, expected in enumerate(alone):
        assert np.array_equal(batch.of(i), expected)
    for pos, i in enumerate(order):
        assert np.array_equal(shuffled.of(pos), alone[i])
    assert len(batch.hashes) == sum(map(len, alone))


def test_batch_of_only_short_and_empty_documents():
    """A batch with no full window at all still gives each short document its one shingle."""
    texts = ["", "男", "", "女性", "。"]
    s = char_shingles(texts, N)
    assert [len(s.of(i)) for i in range(5)] == [0, 1, 0, 1, 0]
    assert s.of(1)[0] == one("男")[0] and s.of(3)[0] == one("女性")[0]


# --- token shingles -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenize():
    from jmedcorpus.text.mecab import get_tokenizer

    return get_tokenizer().word_tokenize


def test_token_shingles_of_real_report(tokenize):
    """Punctuation tokens are left out; n-grams over the remaining words; word boundaries matter."""
    tokens = tokenize(REPORTS[0])
    words = [t for t in tokens if len(normalized_code_points(t))]
    assert len(words) < len(tokens)  # the report has ，．（）
    s = token_shingles([tokens], 3)
    assert len(s.of(0)) == len(words) - 2
    assert np.array_equal(s.of(0), token_shingles([words], 3).of(0))
    assert not np.array_equal(
        token_shingles([["肝", "腫瘤"]], 1).of(0), token_shingles([["肝腫", "瘤"]], 1).of(0)
    )


def test_token_shingles_of_width_variant_tokens_agree(tokenize):
    """Tokens are normalized like text: full-width tokens shingle as their ASCII spellings."""
    tokens = tokenize(REPORTS[0])
    ascii_tokens = [
        "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in t) for t in tokens
    ]
    assert ascii_tokens != tokens
    assert np.array_equal(token_shingles([tokens], 3).of(0), token_shingles([ascii_tokens], 3).of(0))


def test_token_shingles_short_and_batch(tokenize):
    """Fewer than n words → one shingle; batch results equal one document at a time."""
    docs = [tokenize(t) for t in REPORTS[:4] + QUESTIONS] + [["男性"], [], ["。"], ["症例", "は", "男性"]]
    batch = token_shingles(docs, 3)
    for i, tokens in enumerate(docs):
        assert np.array_equal(batch.of(i), token_shingles([tokens], 3).of(0))
    assert [len(batch.of(i)) for i in range(len(docs) - 4, len(docs))] == [1, 0, 0, 1]


def test_token_shingles_do_not_depend_on_other_documents_in_batch():
    """Doc 0's token hashes are the same whether or not another doc in the batch has ｶﾞｰｾﾞ."""
    doc = ["Ⅱ", "型", "糖尿", "病", "に", "10", "㎎", "投与", "、", "38", "℃"]
    alone = token_shingles([doc], 2).of(0)
    with_halfwidth = token_shingles([doc, ["ｶﾞｰｾﾞ", "交換"]], 2).of(0)
    assert np.array_equal(alone, with_halfwidth)


# --- long and astral text ---------------------------------------------------------------------------


def test_very_long_document_is_fast_and_consistent():
    """~1.5 MB of real reports in one document: all windows, same hashes as the parts, in about a second."""
    big = "\n".join(REPORTS) * 125
    t0 = time.perf_counter()
    s = char_shingles([big, REPORTS[0]], N)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"char_shingles took {elapsed:.1f} s for {len(big)} chars"
    length = len(normalized_code_points(big))
    assert len(s.of(0)) == length - N + 1
    first = one(REPORTS[0])
    assert np.array_equal(s.of(0)[: len(first)], first)  # the big doc starts with report 0
    assert np.array_equal(s.of(1), first)
    assert set(s.of(0)) >= set().union(*(set(one(t)) for t in REPORTS))


def test_astral_plane_characters_pass_through():
    """𠮷 (U+20BB7) is kept as one code point and differs from 吉; emoji too."""
    cps = normalized_code_points("𠮷野家😷")
    assert cps.tolist() == [0x20BB7, ord("野"), ord("家"), 0x1F637]
    assert set(one("𠮷野家で食事後に腹痛")) != set(one("吉野家で食事後に腹痛"))
    assert len(one("𠮷野家で食事後に腹痛")) == 10 - N + 1
