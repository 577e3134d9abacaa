"""The fast personal_info paths (issue 14) give exactly what the straightforward ones gave: MeCab
tokens and POS from the compact tagger, the rewritten and gated patterns, and the tokens handed on
to the ``mecab`` step."""

import random
import re

import pytest
from conftest import read_jsonl
from datatrove.data import Document

from jmedcorpus.pii import PersonalInfoRedactor, redact
from jmedcorpus.pii import addresses as A
from jmedcorpus.pii import initials as I
from jmedcorpus.pii import patterns as P
from jmedcorpus.pii.names import find_names, last_word_tokens, tokens_with_pos
from jmedcorpus.text import mecab
from jmedcorpus.text.mecab import MecabWordTokenizer, get_pos_tagger, iter_chunks, remember_tokens

EDGE = [
    "",
    " ",
    "\n\n",
    "山田花子",
    "\u3000山田\u3000花子\u3000様",  # full-width spaces are tokens of their own
    "患者 氏名 : 山田 花子\r\n担当医\t鈴木一郎先生\x0b\x0c。",
    "ａ\xa0ｂ\u2028c\u2003d\x1c山田\x85花子",
    "准教授の田中先生と佐藤看護師。Ａ．Ｂ．さん、K.S.氏（45歳）",
    "田中\x00花子さん",  # MeCab stops at a NUL: the slow path, never handed on
]


def _texts(data_dir):
    texts = []
    for name in (
        "pii_case_reports.jsonl",
        "case_reports_ja.jsonl",
        "papers_ja.jsonl",
        "quality_kept_real.jsonl",
    ):
        texts += [r["text"] for r in read_jsonl(data_dir / name)]
    long = "".join(texts)  # several 4096-character chunks
    rng = random.Random(0)
    spaced = re.sub("[。．]", lambda m: m.group() + rng.choice([" ", "\n ", "\u3000", "\t", "  "]), long)
    return texts + [long, spaced, spaced.replace("\n", " ")] + EDGE


def _reference_tokens_with_pos(text):
    """The original implementation: the full UniDic feature line, located with str.find."""
    parse = get_pos_tagger().parse
    out, base = [], 0
    for chunk in iter_chunks(text):
        pos = 0
        for line in parse(chunk).split("\n"):
            if not line or line == "EOS":
                continue
            fields = line.split("\t")
            start = chunk.find(fields[0], pos)
            if start < 0:
                continue
            pos = start + len(fields[0])
            out.append((base + start, base + pos, fields[0], fields[4] if len(fields) > 4 else ""))
        base += len(chunk)
    return out


def _reference_find_names(text):
    """The original rules, run at every token of the original tokens (names.py before issue 14)."""
    from jmedcorpus.pii.eponyms import is_eponym
    from jmedcorpus.pii.initials import find_initials
    from jmedcorpus.pii.names import _KANJI_KANA, _TITLES_SPLIT, HONORIFICS, LABELS, NOT_SURNAMES, _merge

    def fold(t):
        return t.translate(P._FOLD)

    f = fold(text)
    spans = list(find_initials(f))
    toks = _reference_tokens_with_pos(text)
    n = len(toks)
    is_proper = [t[3].startswith("名詞-固有名詞") for t in toks]
    is_person = [t[3].startswith("名詞-固有名詞-人名") for t in toks]
    i = 0
    while i < n:
        s, _e, surf, pos = toks[i]
        if pos.startswith("名詞-固有名詞-人名-姓") and surf not in NOT_SURNAMES:
            j = i + 1
            while j < n and toks[j][3].startswith("名詞-固有名詞-人名") and toks[j][0] - toks[j - 1][1] <= 1:
                j += 1
            whole = sum(len(t[2]) for t in toks[i:j])
            eponym = is_eponym(f, s, toks[j - 1][1])
            if (len(surf) >= 2 or (j > i + 1 and whole >= 3)) and not eponym and _KANJI_KANA.match(surf):
                spans.append((s, toks[j - 1][1]))
                i = j
                continue
        if i > 0 and (surf in HONORIFICS or text.startswith(_TITLES_SPLIT, s)):
            j = i
            while j > 0 and is_proper[j - 1] and i - j < 3 and toks[j][0] - toks[j - 1][1] <= 1:
                j -= 1
            if j < i:
                first = toks[j][2]
                if (
                    not (len(first) == 1 and fold(first).isascii())
                    and "地名-国" not in toks[j][3]
                    and not is_eponym(f, toks[j][0], toks[i - 1][1])
                ):
                    spans.append((toks[j][0], toks[i - 1][1]))
        if surf in LABELS or (i + 1 < n and surf + toks[i + 1][2] in LABELS):
            k = i + 1 if surf in LABELS else i + 2
            if k < n:
                gap = text[toks[k - 1][1] : toks[k][0]]
                sep = f[toks[k - 1][1] : toks[k][0]]
                if k < n and toks[k][2] in (":", "：") and toks[k][3].startswith("補助記号"):
                    k += 1
                    sep = ":"
                if k < n and (sep.strip() or gap or is_person[k] or is_proper[k]):
                    j = k
                    while (
                        j < n
                        and j - k < 4
                        and toks[j][3].startswith("名詞")
                        and _KANJI_KANA.match(toks[j][2])
                        and toks[j][2] not in HONORIFICS
                        and (j == k or toks[j][0] - toks[j - 1][1] <= 1)
                    ):
                        j += 1
                    if j > k and not is_eponym(f, toks[k][0], toks[j - 1][1]):
                        spans.append((toks[k][0], toks[j - 1][1]))
        i += 1
    return _merge(spans)


def _fresh_word_tokens(text):
    mecab._RECENT.clear()
    try:
        return MecabWordTokenizer().word_tokenize(text)
    finally:
        mecab._RECENT.clear()


def test_tokens_and_pos_match_the_full_feature_tagger(data_dir):
    for text in _texts(data_dir):
        assert tokens_with_pos(text) == _reference_tokens_with_pos(text)


def test_names_match_the_original_rules(data_dir):
    planted = [
        "患者氏名：山田 花子　担当医：鈴木一郎先生、外来では田中看護師が対応した。佐藤さんの家族。",
        "患者 Y.T.（45歳）、Ａ．Ｂ．さん。主治医 高橋　准教授の伊藤先生。林大輔、林。橋本病、米国人",
        "記載医：渡辺 様、報告者 中村。ホルネル徴候、バセドウ病、大網、ギラン・バレー症候群。",
    ]
    texts = _texts(data_dir) + planted + ["\n".join(planted) * 40]
    for text in texts:
        assert find_names(text) == _reference_find_names(text)
    assert sum(len(find_names(t)) for t in planted) >= 10


def test_fold_is_translate(data_dir):
    for text in _texts(data_dir) + ["０９０－１２３４ー５６７８　Ｔｅｌ‐‑‒–—―−﹣ｰ～"]:
        assert P.fold(text[:-1] + text[-1:]) == text.translate(P._FOLD)


def test_handed_on_tokens_are_word_tokenize_tokens(data_dir):
    handed = 0
    for text in _texts(data_dir):
        find_names(text)
        tokens = last_word_tokens(text)
        if "\x00" in text:
            assert tokens is None
            continue
        assert tokens == _fresh_word_tokens(text)
        handed += 1
    assert handed > 20
    assert last_word_tokens("another text") is None


def test_remember_tokens_gives_word_tokenize_its_tokens(data_dir):
    text = read_jsonl(data_dir / "case_reports_ja.jsonl")[0]["text"]
    expected = _fresh_word_tokens(text)
    remember_tokens(text, list(expected))
    try:
        assert mecab.get_tokenizer().word_tokenize(text) == expected
        assert mecab._RECENT.get(text) == expected
    finally:
        mecab._RECENT.clear()


def test_step_hands_on_tokens_only_for_unchanged_documents(data_dir):
    clean = "発熱と咳嗽を主訴に来院した．胸部X線で右下肺野に浸潤影を認めた．"
    dirty = "患者氏名：山田花子。2021年4月12日入院。"
    step = PersonalInfoRedactor()
    mecab._RECENT.clear()
    (doc,) = list(step.run(iter([Document(text=clean, id="c")])))
    assert doc.text == clean and mecab._RECENT.get(clean) is not None
    assert mecab._RECENT.get(clean) == _fresh_word_tokens(clean)
    (doc,) = list(step.run(iter([Document(text=dirty, id="d")])))
    assert doc.text != dirty and mecab._RECENT.get(doc.text) is None and mecab._RECENT.get(dirty) is None


def test_redact_folds_once_and_still_finds_names_after_placeholders():
    text = "２０２１年４月１２日　患者氏名：山田　花子、ＴＥＬ　０３－１２３４－５６７８、Ｙ．Ｔ．さん"
    out, counts = redact(text)
    # (the full-width space is a token of its own, so the label rule stops at the surname: as before)
    assert out == "２０２１年４月<DATE>\u3000患者氏名：<NAME>\u3000花子、ＴＥＬ\u3000<PHONE>、<NAME>さん"
    assert counts["name"] == 2 and counts["date"] == 1 and counts["phone"] == 1


# the patterns as first written (before the lookbehinds were moved behind the first character)
_ORIGINAL = {
    "MYNUMBER": P._NB + r"(\d{4}[ -]?\d{4}[ -]?\d{4})" + P._NA,
    "PHONE": P._NB
    + r"(?:(?:\+81[ -]?(?:\(0\))?[ -]?\d{1,4}|\(0\d{1,4}\)|0\d{1,4})[ -]?\(?\d{1,4}\)?[ -]?\d{3,4}"
    + r"|\+81\d{9,10}|0\d{9,10})"
    + P._NA,
    "LABELLED_ID": P.LABELLED_ID.pattern.replace("I(?<![A-Za-z]I)D", "(?<![A-Za-z])ID"),
}
_GATED = [
    (P, "DATE_FULL"),
    (P, "DATE_MONTH_DAY"),
    (P, "DATE_YEAR_MONTH"),
    (P, "BIRTH_YEAR_MONTH"),
    (A, "ADDRESS"),
    (A, "ADDRESS_CITY"),
    (A, "ADDRESS_RESIDENT"),
    (A, "ADDRESS_TOWN"),
    (I, "_DOTTED"),
    (I, "_UNDOTTED"),
    (I, "_UNDOTTED_LABELLED"),
]
_ALPHABET = list(
    "0123456789000001112-/.,: 　\n年月日生第XYZ市区町村郡丁目番地号室東京都新宿区西RHSTMrhstm+()@aIDNo"
    "番号記号患者さん様氏先生歳ーABCKT・、水曜一二の"
) + ["令和", "平成", "昭和", "元", "マイナンバー", "個人番号", "カルテ番号", "生検番号", "ID No."]
_ALPHABET += [
    "在住",
    "居住",
    "の自宅",
    "丁目",
    "番地",
    "症例",
    "ちゃん",
    "K.",
    "Y.",
    "(水)",
    "青葉区",
    "横浜市",
]


def _spans(matches):
    return [(m.span(), m.groups()) for m in matches]


@pytest.mark.parametrize("seed", range(4))
def test_rewritten_and_gated_patterns_match_as_before(seed):
    rng = random.Random(seed)
    original = {k: re.compile(v) for k, v in _ORIGINAL.items()}
    fired = 0
    for _ in range(4000):
        f = P.fold("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 60))))
        for name, regex in original.items():
            expected = _spans(regex.finditer(f))
            assert _spans(getattr(P, name).finditer(f)) == expected, (name, f)
            fired += bool(expected)
        for gated in [getattr(module, name) for module, name in _GATED]:
            expected = _spans(gated.regex.finditer(f))
            assert _spans(gated.finditer(f)) == expected, (gated.regex.pattern[:40], f)
            fired += bool(expected)
    assert fired > 500  # the strings do exercise the patterns


def test_fold_is_remembered_only_for_the_same_string():
    a = "ＡＢＣー１"
    b = a[:2] + a[2:]  # equal, not the same object
    assert a == b and a is not b
    assert P.fold(a) == "ABC-1"
    P.remember_fold(b, "not its fold")
    assert P.fold(b) == "not its fold"  # the very string remembered
    assert P.fold(a) == "ABC-1"  # an equal one is folded
    P.remember_fold("", "")
