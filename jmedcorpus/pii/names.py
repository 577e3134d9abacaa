"""Person names found with MeCab (UniDic POS) plus context: labels, honorifics and initials.

Rules, in order of confidence:

1. A surname token (``名詞-固有名詞-人名-姓``, 2+ characters) with the given-name tokens that follow
   it (``山田花子``, ``山田 花子``).
2. Any proper-noun run (person, place or general proper noun, e.g. ``橋本`` is tagged as a place)
   directly before an honorific or title: さん, 様, 君, 氏, 先生, 医師, 看護師, 院長, 教授, ちゃん.
3. The noun tokens after a label and a separator: ``患者氏名：``, ``担当医：``, ``主治医 `` ...
4. Initials: ``A.B.さん``, ``Ｋ．Ｓ．氏``, ``患者 Y.T.``.

Not names: a name token followed by a medical suffix (バセドウ病, ギラン・バレー症候群, ホルネル徴候,
ハルトマン手術, フィッシャー比), foreign/katakana ``人名-一般`` tokens without context (eponyms, drugs
and devices MeCab tags as names), one-character surnames (``膨``, ``潮``: segmentation debris in
medical compounds), and a single capital letter before an honorific (``A氏`` is already the
anonymized form).
"""

from __future__ import annotations

import re

from jmedcorpus.pii.patterns import fold
from jmedcorpus.text.mecab import get_pos_tagger, iter_chunks

HONORIFICS = frozenset(
    [
        "さん",
        "様",
        "さま",
        "君",
        "くん",
        "氏",
        "先生",
        "医師",
        "看護師",
        "院長",
        "教授",
        "准教授",
        "ちゃん",
        "殿",
        "技師",
        "薬剤師",
        "医",
    ]
)
LABELS = (
    "患者氏名",
    "氏名",
    "患者名",
    "担当医",
    "主治医",
    "紹介医",
    "執刀医",
    "記載医",
    "記載者",
    "報告者",
    "担当看護師",
    "保護者",
    "家族",
    "連絡者",
    "申込者",
)
# tokens that end an eponym: a name right before one of these is a disease, sign, test, ...
EPONYM_SUFFIX = (
    "病",
    "症候",
    "症",
    "徴候",
    "兆候",
    "サイン",
    "反射",
    "試験",
    "テスト",
    "分類",
    "型",
    "法",
    "手術",
    "術",
    "スコア",
    "細胞",
    "腫",
    "嚢胞",
    "囊胞",
    "現象",
    "管",
    "菌",
    "線",
    "体",
    "結節",
    "斑",
    "骨折",
    "比",
    "病変",
    "陰性",
    "陽性",
    "染色",
    "カテーテル",
    "チューブ",
    "鉗子",
    "液",
    "憩室",
    "脱臼",
    "麻痺",
    "ヘルニア",
    "基準",
    "式",
    "指数",
    "係数",
    "効果",
    "潰瘍",
    "神経",
    "筋",
    "膜",
    "窩",
    "孔",
    "輪",
    "小体",
    "エコー",
    "超音波",
    "角",
    "点",
    "病院",
    "医院",
    "クリニック",
    "大学",
)
# medical words that UniDic tags as surnames
NOT_SURNAMES = frozenset(["大網", "小網", "左枝", "右枝", "左内", "右内"])
_INITIALS = re.compile(
    r"(?<![A-Za-z])(?:[A-Z]\.\s?){1,2}[A-Z]\.?(?=\s?(?:さん|様|氏|君|くん|ちゃん|先生))"
    r"|(?<=患者)\s?[:]?\s?(?:[A-Z]\.\s?){1,2}[A-Z]?\.?(?![A-Za-z])"
    r"|(?<![A-Za-z])(?:[A-Z]\.\s?){1,2}[A-Z]\.?(?=\s?\(\d+歳)"
)
_TITLES_SPLIT = ("看護師", "薬剤師", "技師", "医師", "先生", "院長", "教授", "准教授")
_SEP = re.compile(r"\s*[:]?\s*")
_KANJI_KANA = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff々〆ヶ]+$")


def tokens_with_pos(text: str) -> list[tuple[int, int, str, str]]:
    """``(start, end, surface, pos)`` for every MeCab token of ``text`` (POS joined by hyphens)."""
    parse = get_pos_tagger().parse
    out: list[tuple[int, int, str, str]] = []
    base = 0
    for chunk in iter_chunks(text):
        pos = 0
        for line in parse(chunk).split("\n"):
            if not line or line == "EOS":
                continue
            fields = line.split("\t")
            surface = fields[0]
            start = chunk.find(surface, pos)
            if start < 0:  # MeCab changed the surface (never seen); skip the token rather than guess
                continue
            pos = start + len(surface)
            out.append((base + start, base + pos, surface, fields[4] if len(fields) > 4 else ""))
        base += len(chunk)
    return out


def _is_eponym_next(toks, j: int) -> bool:
    """Token ``j`` (first after a name run) starts a medical suffix, possibly after ``・`` joins."""
    if j >= len(toks):
        return False
    nxt = toks[j][2]
    return any(nxt.startswith(s) for s in EPONYM_SUFFIX)


def find_names(text: str) -> list[tuple[int, int]]:
    """Spans of person names in ``text`` (already stripped of structured identifiers)."""
    spans: list[tuple[int, int]] = []
    f = fold(text)
    for m in _INITIALS.finditer(f):
        s, e = m.span()
        while s < e and f[s] in " :":
            s += 1
        if e > s:
            spans.append((s, e))
    toks = tokens_with_pos(text)
    n = len(toks)
    is_proper = [t[3].startswith("名詞-固有名詞") for t in toks]
    is_person = [t[3].startswith("名詞-固有名詞-人名") for t in toks]
    i = 0
    while i < n:
        s, e, surf, pos = toks[i]
        # rule 1: surname + given names
        if pos.startswith("名詞-固有名詞-人名-姓") and surf not in NOT_SURNAMES:
            j = i + 1
            while j < n and toks[j][3].startswith("名詞-固有名詞-人名") and toks[j][0] - toks[j - 1][1] <= 1:
                j += 1
            # a one-character surname only with a given name after it (林大輔); alone, or with one more
            # character, it is usually debris of a medical compound (膨|診, 潮|紅)
            whole = toks[j - 1][1] - s
            if (
                (len(surf) >= 2 or (j > i + 1 and whole >= 3))
                and not _is_eponym_next(toks, j)
                and _KANJI_KANA.match(surf)
            ):
                spans.append((s, toks[j - 1][1]))
                i = j
                continue
        # rule 2: proper-noun run before an honorific (``看護師`` is split 看護|師: match the text)
        if i > 0 and (surf in HONORIFICS or text.startswith(_TITLES_SPLIT, s)):
            j = i
            while j > 0 and is_proper[j - 1] and i - j < 3 and toks[j][0] - toks[j - 1][1] <= 1:
                j -= 1
            if j < i:
                first = toks[j][2]
                if not (len(first) == 1 and fold(first).isascii()) and "地名-国" not in toks[j][3]:
                    spans.append((toks[j][0], toks[i - 1][1]))
        # rule 3: label + separator + name tokens
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
                    if j > k:
                        spans.append((toks[k][0], toks[j - 1][1]))
        i += 1
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
