"""Medical vocabulary: which MeCab tokens look medical, and a document's medical density.

Shared by the build's ``medical_density`` step (:mod:`jmedcorpus.filters.medical`), the synth
passage selection and the statistics' medical terms.

A token is medical when it is in the lexicon the project ships, ``jmedcorpus/text/medical_terms_ja.txt``
(written by hand for jmedcorpus from general medical knowledge, no source text copied; license
Apache-2.0 like the project; each entry one MeCab token), or when a character rule says so
(:data:`MEDICAL_KANJI`, katakana runs, acronyms) and the word is not on the same file's stoplist
of everyday words (``-`` lines: 心配, 体験, 感じ, 管理, 配置, ニュース, テレビ...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files

from jmedcorpus.text.mecab import get_tokenizer

# Kanji that mark medical vocabulary: the 疒 (sickness) family, organs and tissues, and the
# characters of clinical words (薬剤, 投与, 手術, 診断, 検査, 治療, 処置, 感染, 細菌, 細胞, 抗体,
# 検査値, 血液型...) and of frequent findings. Curated, not derived; some also occur in everyday
# words (心配, 体験, 感じる, 管理, 配置), which is why this is only a proxy.
MEDICAL_KANJI = frozenset(
    "病症疾痛癌炎腫瘍痩療痺瘤疹痰痢瘡癒疫瘢疸瘻痒"  # 疒 family
    "肝腎肺胃腸脳心血骨筋膵胆脾臓膜管髄脈腔尿膚胸腹"  # body, organs, tissues
    "薬剤投与術診検査治処置感染菌細胞抗体値型患医"  # clinical words
    "障壊塞梗栓硬嘔吐咳嗽昏睡酵"  # findings: 障害 壊死 梗塞 塞栓 硬変 嘔吐 咳嗽 昏睡 酵素
)
# A run of 3+ katakana (drug, disease and device loanwords: デュルバルマブ, ステロイド, カテーテル).
_KATAKANA_RUN = re.compile(
    r"[\u30A1-\u30FA\u31F0-\u31FF\uFF66-\uFF9D][\u30A1-\u30FA\u30FC\u31F0-\u31FF\uFF66-\uFF9F]{2,}"
)
# A Latin acronym, half or full width: 2-6 letters or digits, starting with a capital, with at
# least two capitals (CT, CRP, MRI, IgG, HbA (MeCab cuts HbA1c into HbA 1 c), ＬＶＦＸ).
_ACRONYM = re.compile(r"[A-ZＡ-Ｚ][A-Za-z0-9Ａ-Ｚａ-ｚ０-９]{1,5}")
_CAPITAL = re.compile(r"[A-ZＡ-Ｚ]")


LEXICON_FILE = "medical_terms_ja.txt"


@cache
def load_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(medical terms, stoplist) from the packaged ``medical_terms_ja.txt``, read once.

    Plain lines are terms, ``-`` lines stoplist words; ``#`` lines and blank lines are skipped.
    """
    terms: set[str] = set()
    stop: set[str] = set()
    text = files("jmedcorpus.text").joinpath(LEXICON_FILE).read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            stop.add(line[1:].strip())
        else:
            terms.add(line)
    return frozenset(terms), frozenset(stop - terms)


def _rule(token: str) -> bool:
    if any(ch in MEDICAL_KANJI for ch in token):
        return True
    if _KATAKANA_RUN.search(token):
        return True
    return _ACRONYM.fullmatch(token) is not None and len(_CAPITAL.findall(token)) >= 2


# Tokens repeat heavily (a few thousand types cover most of a corpus): cache the decision, so the
# per-token cost of the medical_density step is a dict lookup.
@functools.lru_cache(maxsize=1 << 17)
def is_medical_token(token: str) -> bool:
    """Whether one MeCab token looks like medical vocabulary (see :func:`medical_density`): in the
    shipped lexicon, or matched by the character rule and not on the stoplist.

    >>> [is_medical_token(t) for t in ["肺癌", "ステロイド", "CRP", "ＣＴ", "IgG", "今日", "mg", "テレ"]]
    [True, True, True, True, True, False, False, False]
    >>> [is_medical_token(t) for t in ["発熱", "浸潤", "好酸", "心配", "管理", "ニュース"]]
    [True, True, True, False, False, False]
    """
    terms, stop = load_lexicon()
    return token in terms or (token not in stop and _rule(token))


# token -> 0 (not a word: no letter), 1 (word) or 1 + _MEDICAL (medical word), so that the sum over
# a document's tokens is words + medical * _MEDICAL. Tokens repeat heavily (a few thousand types
# cover most of a corpus), so counting a document is one C-level dict lookup per token and a sum
# (~40 ns a token instead of ~800 ns for a per-token letter test and lru_cache call). Bounded:
# emptied when it would exceed _MAX_CACHED_TOKENS types.
_TOKEN_CODES: dict[str, int] = {}
_MAX_CACHED_TOKENS = 1 << 18
_MEDICAL = 1 << 32  # > any document's token count


def _token_code(token: str) -> int:
    if not any(ch.isalpha() for ch in token):
        return 0
    return 1 + _MEDICAL if is_medical_token.__wrapped__(token) else 1


def count_words_and_medical(tokens: Iterable[str]) -> tuple[int, int]:
    """(word tokens, medical word tokens): a word token has a letter (``str.isalpha``: kana,
    kanji, Latin), a medical one is also :func:`is_medical_token`.

    >>> count_words_and_medical(["肝", "障害", "を", "認め", "た", "。", "CRP", "15", ".", "2"])
    (6, 3)
    """
    if not isinstance(tokens, (list, tuple)):
        tokens = list(tokens)
    codes = _TOKEN_CODES
    try:
        total = sum(map(codes.__getitem__, tokens))
    except KeyError:  # tokens not seen yet: classify each new type once
        new = set(tokens).difference(codes)
        if len(codes) + len(new) > _MAX_CACHED_TOKENS:
            codes.clear()
            new = set(tokens)
        for token in new:
            codes[token] = _token_code(token)
        total = sum(map(codes.__getitem__, tokens))
    medical, words = divmod(total, _MEDICAL)
    return words, medical


def medical_density(text: str, tokens: Sequence[str] | None = None) -> float:
    """Share of the word tokens of ``text`` (MeCab tokens with a letter: not punctuation, digits,
    symbols) that look like medical terms; 0.0 without word tokens.

    A token counts when it is one of the hand-written terms of ``medical_terms_ja.txt`` (556
    symptoms, findings, anatomy, procedures, lab terms, drugs, diseases, specialties: 発熱, 浸潤,
    好酸 (MeCab cuts 好酸球 into 好酸 球), 嘔気, 黄疸) or when it holds a kanji of
    :data:`MEDICAL_KANJI` (sickness radical 疒 family, organs, clinical-word and finding kanji),
    a run of 3+ katakana (drug and disease loanwords) or a Latin acronym of 2-6 characters with
    2+ capitals (CT, CRP, MRI, IgG) and is not one of the file's 103 stoplist words (心配, 体験,
    感じ, 管理, 配置, 処理, 検討, ニュース, テレビ). Pass ``tokens`` when the text is already
    tokenized; otherwise the text is tokenized here. Punctuation and numbers are left out of the
    denominator so that lab values and dates do not dilute it.

    It is a proxy for a loose floor and ranking, not a classifier: particles and verb endings are
    word tokens too. Measured on the test fixtures (min / median / max), rule alone -> rule with
    lexicon and stoplist: the 12 case reports 0.154 / 0.237 / 0.281 -> 0.227 / 0.274 / 0.317
    (their 25 default passages 0.130 / 0.234 / 0.299 -> 0.162 / 0.272 / 0.349); the 6 IgakuQA
    questions 0.101 / 0.193 / 0.414 -> 0.101 / 0.229 / 0.414; the everyday sentences of the tests
    (weather, politics, sport; a day out) 0.014 and 0.0 -> 0.0 and 0.0, and a sentence with
    ニュース, テレビ, 心配, 管理 0.0 (0.21 by the rule alone). Misses remain: medical words that
    MeCab splits into generic pieces (球, 化, 性), and everyday words with a medical kanji that
    the stoplist does not list.

    >>> medical_density("", ["肝", "障害", "を", "認め", "た", "。", "CRP", "15", ".", "2"])
    0.5
    >>> medical_density("")
    0.0
    """
    if tokens is None:
        tokens = get_tokenizer().word_tokenize(text)
    words, medical = count_words_and_medical(tokens)
    return medical / words if words else 0.0
