"""Medical vocabulary: which MeCab tokens look medical, and a document's medical density.

Shared by the build's ``medical_density`` step (:mod:`jmedcorpus.filters.medical`), the synth
passage selection and the statistics' medical terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

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


def is_medical_token(token: str) -> bool:
    """Whether one MeCab token looks like medical vocabulary (see :func:`medical_density`).

    >>> [is_medical_token(t) for t in ["肺癌", "ステロイド", "CRP", "ＣＴ", "IgG", "今日", "mg", "テレ"]]
    [True, True, True, True, True, False, False, False]
    """
    if any(ch in MEDICAL_KANJI for ch in token):
        return True
    if _KATAKANA_RUN.search(token):
        return True
    return _ACRONYM.fullmatch(token) is not None and len(_CAPITAL.findall(token)) >= 2


def count_words_and_medical(tokens: Iterable[str]) -> tuple[int, int]:
    """(word tokens, medical word tokens): a word token has a letter (kana, kanji, Latin)."""
    words = medical = 0
    for t in tokens:
        if any(ch.isalpha() for ch in t):
            words += 1
            medical += is_medical_token(t)
    return words, medical


def medical_density(text: str, tokens: Sequence[str] | None = None) -> float:
    """Share of the word tokens of ``text`` (MeCab tokens with a letter: not punctuation, digits,
    symbols) that look like medical terms; 0.0 without word tokens.

    A token counts when it holds a kanji of :data:`MEDICAL_KANJI` (sickness radical 疒 family,
    organs, clinical-word and finding kanji), a run of 3+ katakana (drug and disease loanwords)
    or a Latin acronym of 2-6 characters with 2+ capitals (CT, CRP, MRI, IgG). Pass ``tokens``
    when the text is already tokenized; otherwise the text is tokenized here. Punctuation and
    numbers are left out of the denominator so that lab values and dates do not dilute it.

    It is a proxy without a dictionary, for a loose floor and ranking, not a classifier: particles
    and verb endings are word tokens too, so real Japanese case reports score about 0.15-0.3 per
    passage (the 29 passages of the fixture reports: 0.13-0.30) and licensing-exam questions
    0.1-0.4, while everyday sentences about weather or politics score 0 (a news sentence with
    ニュース and テレビ: 0.1). Everyday words with 心, 体, 感, 管, 型 and non-medical katakana
    (ニュース, テレビ) are false positives; medical terms in hiragana or with kanji outside the
    set (発熱, 浸潤, 好酸球) are missed.

    >>> medical_density("", ["肝", "障害", "を", "認め", "た", "。", "CRP", "15", ".", "2"])
    0.5
    >>> medical_density("")
    0.0
    """
    if tokens is None:
        tokens = get_tokenizer().word_tokenize(text)
    words, medical = count_words_and_medical(tokens)
    return medical / words if words else 0.0
