"""Eponyms: a surname inside a disease, sign, classification or procedure name is not a person.

UniDic tags the 高安 of 高安動脈炎 and the 菊池 of 菊池病 as surnames, so the name rules alone would
write ``<NAME>動脈炎``. :func:`is_eponym` keeps a candidate name when

1. a term of ``jmedcorpus/text/eponyms_ja.txt`` covers its first character (子宮口 covers 宮口,
   フォークト・小柳・原田病 covers 小柳 and 原田), or
2. the text after it is an eponym's tail: at most two more names joined by ``・``, ``-`` or ``=``
   (菊池・藤本病, 津守・稲毛式, 田中・Binet式), then an optional ``氏`` (原田氏病), a Roman or Arabic
   numeral before 型 (山田IV型), or ``の`` before a classification word (大島の分類), then a
   medical head (:data:`HEADS`).

The name finder calls it only at the few spans it would redact, on the folded text (full-width
ASCII → ASCII, ``ー`` → ``-``; :func:`jmedcorpus.pii.patterns.fold`); the terms are folded alike.
"""

from __future__ import annotations

import re
from functools import cache

from jmedcorpus.pii.patterns import fold_word
from jmedcorpus.pii.wordlists import read_word_list

EPONYM_FILE = "eponyms_ja.txt"

# Heads that make the name before them an eponym, longest first where one is a prefix of another.
# A one-character head carries the compounds that start with it but are not heads: a name before
# 体温, 術後, 点滴, 管理 is still a name (``田中術後3日目``). Matched on the folded text, so the
# prolonged-sound mark is written ``-`` (カテ-テル).
HEADS = (
    "症候群|大動脈炎|動脈炎|甲状腺炎|脳症|脳炎|肉芽腫|肉腫|母斑|白斑|潰瘍|嚢胞|囊胞|憩室|ヘルニア|麻痺|骨折|脱臼"
    "|病変|病(?![院棟室歴名日])|症(?![状例])|腫(?![脹瘤大瘍])"
    "|徴候|兆候|徴|サイン|現象|反射|反応|試験|テスト|検査|スケール|スコア"
    "|分類|病期|基準|指数|係数|比(?![較率])|変法|療法|法(?![人律令])|式(?![典])"
    "|手術|術式|術(?![前後中者野])|手技|吻合|切開|縫合|固定|鉗子|クリップ|カテ-テル|チュ-ブ|ステント"
    "|細胞|小体|結節|神経|靱帯|靭帯|三角|腺|孔|窩|輪|弓|溝|角(?![膜化])|点(?![滴眼数検])|線(?![量])"
    "|管(?![理内腔轄])|膜(?![下])|筋(?![肉力腫])|裂(?![傷])"
    "|菌|毒素|吸虫|条虫|線虫|培地|染色|ウイルス|ワクチン|因子|ミオパチ-|ジストロフィ-"
    "|陰性|陽性|効果|液(?![体状晶])|エコ-|超音波|型"
    # a facility or an institution, not a person (田中病院 is the facility finder's)
    "|病院|医院|クリニック|診療所|大学"
)
_NAMEISH = r"[\u3400-\u9fff\uf900-\ufaff々ヶ\u30a1-\u30faA-Za-z\-]"
EPONYM_TAIL = re.compile(
    rf"氏?(?:[・=\-]{_NAMEISH}{{1,12}}?){{0,2}}?\s?"
    r"(?:(?:[IVX]+|[\u2160-\u216b]+|\d+|[一二三四五六])\s?(?=型)|の(?=分類|基準|病期|徴候|三角))?"
    rf"(?:{HEADS})"
)


@cache
def _terms_by_char() -> dict[str, tuple[tuple[str, int], ...]]:
    """For each character, the listed terms holding it and where: ``(term, offset)``."""
    index: dict[str, list[tuple[str, int]]] = {}
    for term in read_word_list(EPONYM_FILE):
        folded = fold_word(term)
        for k, c in enumerate(folded):
            index.setdefault(c, []).append((folded, k))
    return {c: tuple(v) for c, v in index.items()}


def is_eponym(folded: str, start: int, end: int) -> bool:
    """Whether the candidate name ``folded[start:end]`` is part of an eponym (see the module doc).

    >>> from jmedcorpus.pii.patterns import fold
    >>> [is_eponym(fold(t), 0, 2) for t in ("高安動脈炎", "原田氏病", "山田ＩＩ型", "宮口", "山田さん")]
    [True, True, True, False, False]
    >>> is_eponym("子宮口", 1, 3), is_eponym("菊池・藤本病", 0, 2), is_eponym("田中術後", 0, 2)
    (True, True, False)
    """
    if EPONYM_TAIL.match(folded, end):
        return True
    for term, k in _terms_by_char().get(folded[start : start + 1], ()):
        if k <= start and folded.startswith(term, start - k):
            return True
    return False
