"""The one-pass character-class counts equal what each class's regex counts, character for character."""

import random

import pytest
from conftest import DATA, read_jsonl

from jmedcorpus.text import charclass as cc

PATTERNS = {
    "hiragana": cc.HIRAGANA,
    "katakana": cc.KATAKANA,
    "kanji": cc.KANJI,
    "ascii_letter": cc.ASCII_LETTER,
    "digit": cc.DIGIT,
    "symbol": cc.SYMBOL,
}
EVERY = "".join(map(chr, range(0x110000)))


def regex_counts(text: str) -> dict[str, int]:
    counts = {name: len(p.findall(text)) for name, p in PATTERNS.items()}
    counts["non_space"] = len(text) - len(cc.WHITESPACE.findall(text))
    return counts


def texts() -> list[str]:
    rng = random.Random(0)
    out = [
        rec["text"]
        for name in ("case_reports_ja.jsonl", "igakuqa_ja.jsonl", "pubmedqa_en.jsonl")
        for rec in read_jsonl(DATA / name)
    ]
    out += ["", " ", "\u3000\n\t", "a\ud800b\udfff", "゛゜・゠ー々〆〇", "０９０-１２３４", "★☆ ™ € ¥ © ‰ ℃"]
    # random code points from all of Unicode, surrogates and unassigned ones included
    out += ["".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 400))) for _ in range(200)]
    # and from the blocks Japanese text lives in
    blocks = [
        (0, 0x250),
        (0x2000, 0x3100),
        (0x3000, 0x3200),
        (0x31F0, 0x3200),
        (0x3400, 0xA000),
        (0xF900, 0xFB00),
        (0xFF00, 0xFFF0),
    ]
    for _ in range(200):
        out.append("".join(chr(rng.randrange(*rng.choice(blocks))) for _ in range(rng.randrange(1, 400))))
    return out


@pytest.mark.parametrize("text", texts())
def test_counts_equal_regex_counts(text):
    assert cc.char_counts(text)._asdict() == regex_counts(text)
    assert cc.non_space_len(text) == regex_counts(text)["non_space"]


def test_every_code_point_classified_like_its_regex():
    assert cc.char_counts(EVERY)._asdict() == regex_counts(EVERY)


def test_kana_and_japanese_are_disjoint_unions():
    assert set(cc.KANA.findall(EVERY)) == set(cc.HIRAGANA.findall(EVERY)) | set(cc.KATAKANA.findall(EVERY))
    assert not set(cc.HIRAGANA.findall(EVERY)) & set(cc.KATAKANA.findall(EVERY))
    parts = [set(p.findall(EVERY)) for p in (cc.HIRAGANA, cc.KATAKANA, cc.KANJI)]
    assert set(cc.JAPANESE.findall(EVERY)) == parts[0] | parts[1] | parts[2]
    assert sum(map(len, parts)) == len(parts[0] | parts[1] | parts[2])


@pytest.mark.parametrize(
    "text", ["症例は70歳，男性．", "ｶﾞｰｾﾞ交換。ⅡCRP 15.2mg/dL\n\n", "", "★★★ ☆☆☆", "Grey-Turner徴候はどれか。"]
)
def test_ratios_equal_regex_ratios(text):
    n = len(text) - len(cc.WHITESPACE.findall(text))

    def ratio(pattern):
        return len(pattern.findall(text)) / n if n else 0.0

    assert cc.hiragana_ratio(text) == ratio(cc.HIRAGANA)
    assert cc.katakana_ratio(text) == ratio(cc.KATAKANA)
    assert cc.kana_ratio(text) == ratio(cc.KANA)
    assert cc.kanji_ratio(text) == ratio(cc.KANJI)
    assert cc.japanese_ratio(text) == ratio(cc.JAPANESE)
    assert cc.ascii_letter_ratio(text) == ratio(cc.ASCII_LETTER)
    assert cc.digit_ratio(text) == ratio(cc.DIGIT)
    assert cc.symbol_ratio(text) == ratio(cc.SYMBOL)
    assert all(type(f(text)) is float for f in (cc.hiragana_ratio, cc.symbol_ratio))


def test_cache_is_by_identity_and_follows_the_document():
    a, b = "ひらがな", "カタカナ"
    assert cc.hiragana_ratio(a) == 1.0
    assert cc.hiragana_ratio(b) == 0.0 and cc.katakana_ratio(b) == 1.0
    assert cc.hiragana_ratio(a) == 1.0
    assert cc.non_space_len("a b") == 2 and cc.char_counts("a b c").non_space == 3
