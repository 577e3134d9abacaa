"""The shipped medical lexicon and stoplist, and what they change in medical_density."""

import statistics

import pytest
from conftest import read_jsonl

from jmedcorpus.text.mecab import get_tokenizer
from jmedcorpus.text.medical import (
    LEXICON_FILE,
    _rule,
    count_words_and_medical,
    is_medical_token,
    load_lexicon,
    medical_density,
)

EVERYDAY = (
    "明日の東京は晴れのち曇りで、最高気温は二十五度の予想です。"
    "首相は午後の記者会見で、来年度の予算案について説明しました。"
    "今日は朝から雨が降っていたので、駅まで歩いて行った。午後は友人と映画を見に行き、夜は家族と夕食をとった。"
    "昨日のニュースをテレビで見て、家族と心配しながら管理人に連絡した。"
)


def lexicon_lines() -> list[str]:
    from importlib.resources import files

    return files("jmedcorpus.text").joinpath(LEXICON_FILE).read_text(encoding="utf-8").splitlines()


def entries() -> list[str]:
    return [line.strip().removeprefix("-") for line in lexicon_lines() if line.strip() and line[0] != "#"]


def test_lexicon_loads():
    terms, stop = load_lexicon()
    assert len(terms) >= 300 and len(stop) >= 20
    assert not terms & stop


def test_header_has_provenance_and_license():
    header = [line for line in lexicon_lines() if line.startswith("#")]
    text = "\n".join(header)
    assert "Provenance: written by hand for jmedcorpus" in text
    assert "License: Apache-2.0" in text
    terms, stop = load_lexicon()
    assert f"{len(terms)} medical terms" in text and f"{len(stop)} stoplist words" in text


def test_no_duplicates():
    items = entries()
    assert len(items) == len(set(items))


def test_every_entry_is_one_mecab_token():
    tokenize = get_tokenizer().word_tokenize
    assert [t for t in entries() if tokenize(t) != [t]] == []


def test_stoplist_words_are_ones_the_rule_counts():
    _, stop = load_lexicon()
    assert all(_rule(t) for t in stop)


@pytest.mark.parametrize("word", ["発熱", "浸潤", "好酸", "好中", "倦怠", "嘔気", "黄疸", "肥厚", "狭窄"])
def test_known_misses_are_medical(word):
    assert is_medical_token(word)


@pytest.mark.parametrize(
    "word", ["心配", "体験", "感じ", "管理", "配置", "処理", "検討", "ニュース", "テレビ"]
)
def test_stoplist_words_are_not(word):
    assert _rule(word) and not is_medical_token(word)


def test_densities_of_reports_rise_and_everyday_text_stays_low(data_dir):
    tokenize = get_tokenizer().word_tokenize
    reports = [r["text"] for r in read_jsonl(data_dir / "case_reports_ja.jsonl") if "-ner-" not in r["id"]]
    before, after = [], []
    for text in reports:
        tokens = tokenize(text)
        words = sum(1 for t in tokens if any(ch.isalpha() for ch in t))
        before.append(sum(1 for t in tokens if any(ch.isalpha() for ch in t) and _rule(t)) / words)
        after.append(medical_density(text, tokens))
    assert all(a >= b for a, b in zip(after, before, strict=True))
    assert statistics.median(after) > statistics.median(before) + 0.02
    assert min(after) > 0.2
    words, medical = count_words_and_medical(tokenize(EVERYDAY))
    assert words > 50 and medical / words < 0.1
    assert medical_density(EVERYDAY) < 0.1


def _count_per_token(tokens):
    """count_words_and_medical as first written: a letter test and a lookup per token."""
    words = medical = 0
    for t in tokens:
        if any(ch.isalpha() for ch in t):
            words += 1
            medical += is_medical_token(t)
    return words, medical


def test_cached_counts_equal_per_token_counts(data_dir, monkeypatch):
    import jmedcorpus.text.medical as med

    tokenize = get_tokenizer().word_tokenize
    docs = [
        tokenize(r["text"])
        for name in ("case_reports_ja.jsonl", "igakuqa_ja.jsonl", "papers_ja.jsonl")
        for r in read_jsonl(data_dir / name)
    ]
    docs += [
        tokenize(EVERYDAY),
        [],
        ["", " ", "15", "．", "Ⅱ", "ｶﾞｰｾﾞ", "ⅰ", "²", "々"],
        ("CT", "CRP", "の"),
        iter(["肺癌", "1"]),
    ]
    expected = [_count_per_token(list(d)) for d in docs]
    docs[-1] = iter(["肺癌", "1"])
    assert [count_words_and_medical(d) for d in docs] == expected
    # bounded: the cache empties itself and the counts stay right
    monkeypatch.setattr(med, "_MAX_CACHED_TOKENS", 50)
    med._TOKEN_CODES.clear()
    docs[-1] = iter(["肺癌", "1"])
    assert [count_words_and_medical(d) for d in docs] == expected
    assert len(med._TOKEN_CODES) <= max(50, max(len(set(d)) for d in docs[:-1]))
