import pickle

import pytest
from datatrove.data import Document
from datatrove.pipeline.filters.gopher_repetition_filter import GopherRepetitionFilter

from jmedcorpus.constants import QUALITY_CHAR_NGRAM_REPETITION, QUALITY_REPETITION_PREFIX
from jmedcorpus.filters.quality.repetition import (
    GOPHER_KEYS,
    CharNgramRepetitionFilter,
    JaGopherRepetitionFilter,
)
from jmedcorpus.text.mecab import MecabWordTokenizer

# IgakuQA 116D1 (normalized): five options repeating long phrases; 50% of its characters repeat
RHD = (
    "RhD(-)血液型の妊婦で分娩後に抗Dヒト免疫グロブリン投与が必要な組合せはどれか。\n"
    "a. 夫の血液型RhD(−)、妊娠12週の間接クームス試験(−)、妊娠26週の間接クームス試験(−)、出産児の血液型RhD(−)\n"
    "b. 夫の血液型RhD(+)、妊娠12週の間接クームス試験(−)、妊娠26週の間接クームス試験(−)、出産児の血液型RhD(−)\n"
    "c. 夫の血液型RhD(+)、妊娠12週の間接クームス試験(−)、妊娠26週の間接クームス試験(−)、出産児の血液型RhD(+)\n"
    "d. 夫の血液型RhD(+)、妊娠12週の間接クームス試験(−)、妊娠26週の間接クームス試験(+)、出産児の血液型RhD(+)\n"
    "e. 夫の血液型RhD(+)、妊娠12週の間接クームス試験(+)、妊娠26週の間接クームス試験(+)、出産児の血液型RhD(+)"
)
NURSING = (
    "22時巡視時、入眠中。呼吸音異常なし。SpO2 97%(室内気)。0時、疼痛の訴えあり医師に報告し"
    "ロキソプロフェン60mg内服。1時再訪室し、痛みは軽減したと話される。"
)
REPEATED_LINE = "詳しくはこちらをクリックしてください。\n" * 20
REPEATED_PARAGRAPH = "当院の診療時間は9時から17時までです。\n\n" * 6
SPAM = "今すぐクリックして無料相談!" * 30


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (RHD, None),
        (NURSING, None),
        (REPEATED_LINE, QUALITY_CHAR_NGRAM_REPETITION),
        (SPAM, QUALITY_CHAR_NGRAM_REPETITION),
    ],
)
def test_char_ngram_repetition(text, reason):
    doc = Document(text=text, id="t")
    assert CharNgramRepetitionFilter().filter(doc) == (True if reason is None else (False, reason))
    assert 0.0 <= doc.metadata["char_ngram_repetition"] <= 1.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (RHD, None),
        (NURSING, None),
        (REPEATED_LINE, "dup_line_frac"),
        (REPEATED_PARAGRAPH, "dup_para_frac"),
        ("", "empty"),
    ],
)
def test_gopher_repetition(text, reason):
    doc = Document(text=text, id="t")
    expected = True if reason is None else (False, QUALITY_REPETITION_PREFIX + reason)
    assert JaGopherRepetitionFilter().filter(doc) == expected
    assert set(GOPHER_KEYS.values()) <= set(doc.metadata)


@pytest.mark.parametrize("dup_n_gram_fracs", [None, [0.7] * 6])
@pytest.mark.parametrize("text", [RHD, NURSING, REPEATED_LINE, REPEATED_PARAGRAPH, SPAM])
def test_gopher_same_decision_as_stock(text, dup_n_gram_fracs):
    ours = JaGopherRepetitionFilter(**({"dup_n_gram_fracs": dup_n_gram_fracs} if dup_n_gram_fracs else {}))
    stock = GopherRepetitionFilter(
        dup_line_frac=ours.dup_line_frac,
        dup_para_frac=ours.dup_para_frac,
        dup_line_char_frac=ours.dup_line_char_frac,
        dup_para_char_frac=ours.dup_para_char_frac,
        # stock datatrove has no "off" for n-gram checks: pass only the enabled ones
        top_n_grams=tuple((n, f) for n, f in ours.top_n_grams if f),
        dup_n_grams=tuple((n, f) for n, f in ours.dup_n_grams if f),
        language=MecabWordTokenizer(),
    )
    expected = stock.filter(Document(text=text, id="t"))
    if expected is not True:
        expected = (False, QUALITY_REPETITION_PREFIX + expected[1])
    assert ours.filter(Document(text=text, id="t")) == expected


def test_gopher_pickles_with_mecab():
    flt = pickle.loads(pickle.dumps(JaGopherRepetitionFilter()))
    assert isinstance(flt.language, MecabWordTokenizer)
    assert flt.filter(Document(text=REPEATED_LINE, id="t")) == (
        False,
        QUALITY_REPETITION_PREFIX + "dup_line_frac",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dup_line_frac": 1.5}, r"dup_line_frac must be in \[0, 1\], got 1.5"),
        ({"top_n_gram_fracs": [0.2, 0.2]}, r"top_n_gram_fracs must be 3 values in \[0, 1\]"),
        ({"dup_n_gram_fracs": [0.1] * 5 + [2.0]}, r"dup_n_gram_fracs must be 6 values in \[0, 1\]"),
    ],
)
def test_gopher_invalid(kwargs, message):
    with pytest.raises(ValueError, match=message):
        JaGopherRepetitionFilter(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 2}, r"n must be in \[5, 100\], got 2"),
        ({"max_ratio": 1.5}, r"max_ratio must be in \[0, 1\], got 1.5"),
    ],
)
def test_char_ngram_invalid(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CharNgramRepetitionFilter(**kwargs)


@pytest.mark.parametrize("text", [RHD, NURSING, REPEATED_LINE, SPAM, "", "症例"])
@pytest.mark.parametrize("n", [2, 3, 4])
def test_top_duplicate_chars_equals_datatrove(text, n):
    from datatrove.pipeline.filters.gopher_repetition_filter import find_top_duplicate, get_n_grams

    from jmedcorpus.filters.quality.repetition import top_duplicate_chars

    words = MecabWordTokenizer().word_tokenize(text)
    grams = get_n_grams(words, n)
    assert top_duplicate_chars(words, n) == (find_top_duplicate(grams) if grams else 0)


def _char_ngram_repetition_scan(text, n):
    """char_ngram_repetition as first written: the repeat scan over every position."""
    import re

    chars = re.sub(r"\s", "", text)
    seen, repeated, i = set(), 0, 0
    while i <= len(chars) - n:
        gram = chars[i : i + n]
        if gram in seen:
            repeated += n
            i += n
        else:
            seen.add(gram)
            i += 1
    return repeated / len(chars) if chars else 0.0


def test_fast_measures_equal_the_plain_ones_on_random_input():
    import random

    from datatrove.pipeline.filters.gopher_repetition_filter import (
        find_all_duplicate,
        find_top_duplicate,
        get_n_grams,
    )

    from jmedcorpus.filters.quality.repetition import (
        char_ngram_repetition,
        duplicated_ngram_chars,
        top_duplicate_chars_by_n,
    )

    rng = random.Random(0)
    alphabet = ["a", "b", "c", " ", "\n", "胸", "水", "\ud800", "𠮷", "\u3000"]
    for _ in range(2000):
        text = "".join(
            rng.choice(alphabet[: rng.choice([2, 3, 6, 10])]) for _ in range(rng.randrange(0, 200))
        )
        if rng.random() < 0.5:
            unit = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30)))
            text = text[: len(text) // 2] + unit * rng.randrange(1, 8) + text[len(text) // 2 :]
        n = rng.choice([5, 7, 20, 33])
        assert char_ngram_repetition(text, n) == _char_ngram_repetition_scan(text, n)
    # words with spaces inside and empty words too: " ".join / "".join n-grams are not word tuples
    vocab = ["a", "b", "c", "d", "", "x y", " ", "ab", "bc", "胸水"]
    for _ in range(2000):
        words = [rng.choice(vocab[: rng.choice([2, 3, 4, 10])]) for _ in range(rng.randrange(0, 50))]
        expected = {n: find_top_duplicate(get_n_grams(words, n)) if len(words) >= n else 0 for n in (2, 3, 4)}
        assert top_duplicate_chars_by_n(words, (2, 3, 4)) == expected
        assert top_duplicate_chars_by_n(words, (3,)) == {3: expected[3]}
        for n in (2, 5, 10):
            assert duplicated_ngram_chars(words, n) == find_all_duplicate(words, n)
