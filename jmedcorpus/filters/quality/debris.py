"""Markup and navigation debris left by HTML extraction: tags, entities, URLs, menu lines.

Origin: the boilerplate rules of C4 (Raffel et al. 2020: lines mentioning "javascript", "cookie
policy"), HojiChar's and llm-jp-corpus's web cleaners, and Swallow's footer patterns (Okazaki et
al. 2024). Unlike NG-word filters, nothing here looks at medical vocabulary: a navigation phrase
only counts when it fills a short line on its own (menus, breadcrumbs, footers), and 老人ホーム,
PR (partial response) or 広告 in a question are not phrases. Calibrated with
``bench/calibrate_quality.py``: real case reports and exam questions score 0.
"""

import re
from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import QUALITY_MARKUP_DEBRIS
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.charclass import WHITESPACE, non_space_len

META_MARKUP_DEBRIS_RATIO = "markup_debris_ratio"
URL_CHARS = 10

# an HTML/XML tag (<br>, </div>, <a href=...>) or entity; "p<0.05" and 〈MMSE〉 are not tags
_MARKUP = re.compile(
    r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>\n]{0,500})?/?>|&(?:[a-zA-Z]{2,8}|#[0-9]{2,6}|#x[0-9a-fA-F]{2,6});"
)
_URL = re.compile(r"(?:https?://|www\.)[!-~]+")
_NAV = re.compile(
    r"ログイン|ログアウト|会員登録|新規登録|トップページ|トップへ戻る|ホームへ戻る|^ホーム\s*[>＞»›]|次の記事|前の記事"
    r"|一覧へ戻る|一覧に戻る|ページの先頭|ページトップ|サイトマップ|お問い?合わ?せ|プライバシーポリシー|利用規約"
    r"|個人情報保護方針|続きを読む|もっと見る|関連記事|人気記事|ツイート|シェアする|ブックマーク"
    r"|cookie|javascript|all rights reserved|copyright|©|skip to content|read more",
    re.IGNORECASE,
)


def markup_debris_ratio(text: str, max_nav_line_chars: int = 40) -> float:
    """Share of non-space characters that are markup, URLs or navigation lines.

    A URL counts as ``URL_CHARS`` characters however long it is (a reference link in a short
    report is not debris; a list of links is). A navigation line is a line of at most
    ``max_nav_line_chars`` non-space characters that contains a navigation phrase; all its
    characters count.

    >>> markup_debris_ratio("有料老人ホーム入所中。胸部CTで右肺上葉に結節影を認めた。")
    0.0
    >>> markup_debris_ratio("ログイン\\n次の記事")
    1.0
    """
    total = debris = 0
    for line in text.splitlines():
        rest, n_urls = _URL.subn(" ", line)
        size = non_space_len(rest) + n_urls * URL_CHARS
        total += size
        if size <= max_nav_line_chars and _NAV.search(line):
            debris += size
        else:
            debris += n_urls * URL_CHARS + sum(len(WHITESPACE.sub("", m)) for m in _MARKUP.findall(rest))
    return debris / total if total else 0.0


@register_step("markup_debris")
class MarkupDebrisFilter(BaseFilter):
    """Drop documents in which HTML tags, entities, URLs and navigation lines take too much room.

    Writes ``metadata["markup_debris_ratio"]``; reason ``QUALITY_MARKUP_DEBRIS``.

    Args:
        max_ratio: highest debris share of non-whitespace characters kept, in [0, 1] (default
            0.3: a reference URL in a short report stays, a menu-framed page goes).
        max_nav_line_chars: longest line (non-space characters, 1-200) still counted as a
            navigation line when it contains a navigation phrase (default 40).
        exclusion_writer: optional writer for dropped documents.
    """

    name = "markup debris"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_MARKUP_DEBRIS,)
    signal_fields: ClassVar[dict[str, str]] = {META_MARKUP_DEBRIS_RATIO: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("markup_debris_ratio", "max", "max_ratio", ""),
    )

    def __init__(
        self, *, max_ratio: float = 0.3, max_nav_line_chars: int = 40, exclusion_writer=None
    ) -> None:
        super().__init__(exclusion_writer)
        check_fraction("max_ratio", max_ratio)
        if not 1 <= max_nav_line_chars <= 200:
            raise ValueError(f"max_nav_line_chars must be in [1, 200], got {max_nav_line_chars}")
        self.max_ratio = max_ratio
        self.max_nav_line_chars = max_nav_line_chars

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ratio = doc.metadata[META_MARKUP_DEBRIS_RATIO] = markup_debris_ratio(
            doc.text, self.max_nav_line_chars
        )
        return ratio <= self.max_ratio or (False, QUALITY_MARKUP_DEBRIS)
