"""Remove the non-content parts of plain-text papers (the ``paper_sections`` step).

Papers converted from PDF or HTML (J-STAGE, institutional repositories) carry, around the clinical
text, parts that are not prose a model should learn from and that repeat across papers. Line by
line, this step removes:

==================  ==============================================================================
kind                what is removed
==================  ==============================================================================
``references``      a heading ``参考文献`` / ``文献`` / ``引用文献`` / ``References`` (also ``【文献】``,
                    ``5. 文献``) and the lines after it up to the next section heading or the first
                    prose line; also, without a heading, a run of >= 3 numbered citation lines such
                    as ``1) 山田太郎, 他: 日内会誌 2019; 108: 123-130.``
``coi``             a ``利益相反`` / ``COI`` / ``Conflict of interest`` heading with its paragraph,
                    and statement lines (``利益相反：本論文に関して開示すべき利益相反はない．``)
``acknowledgments`` a ``謝辞`` / ``Acknowledgments`` heading with its paragraph, and ``謝辞：…`` lines
``front_matter``    at the top, before the first section heading: author lines (names with
                    superscript markers ``山田太郎1)，佐藤花子2)``), affiliation lines (大学, 病院,
                    講座, 教室, 科 ...), received/accepted dates; and anywhere: e-mail,
                    ``連絡先`` / ``別刷請求先`` / ``Corresponding author`` / ``〒`` address lines
``running_headers`` short lines repeated >= ``min_header_repeats`` times once digits are ignored,
                    that look like a header or footer: journal name + volume/pages
                    (``日内会誌 108：123～130，2019``), ``山田, 他``, page numbers (``― 125 ―``)
==================  ==============================================================================

The title, section headings and every line of clinical text stay as they are (a numbered clinical
list such as ``1) 多発肝膿瘍`` is not a citation: citations need a year and volume/pages).
Writes ``sections_removed_chars`` and, per kind, the number of lines removed
(``sections_references_lines``, ``sections_coi_lines``, ``sections_acknowledgments_lines``,
``sections_front_matter_lines``, ``sections_running_headers_lines``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import ClassVar

from datatrove.pipeline.formatters.base import BaseFormatter

from jmedcorpus.registry import register_step

KINDS = ("references", "coi", "acknowledgments", "front_matter", "running_headers")
META_REMOVED_CHARS = "sections_removed_chars"


def _meta_lines(kind: str) -> str:
    return f"sections_{kind}_lines"


# heading decoration: "5.", "Ⅲ．", "【", "■", "●", "＜" ... around a short title
_PREFIX = r"^[\s　]*(?:[0-9０-９]{1,2}[.．、)）]?|[IVXⅠ-Ⅹ]{1,4}[.．、]|[■□●○◆◇▼▲【〔［\[<＜《])?[\s　]*"
_SUFFIX = r"[\s　]*(?:[】〕］\]>＞》])?[\s　]*[:：]?[\s　]*$"


def _heading(words: str) -> re.Pattern:
    return re.compile(_PREFIX + f"(?:{words})" + _SUFFIX, re.IGNORECASE)


_REF_HEADING = _heading(
    r"参\s*考\s*文\s*献|引\s*用\s*文\s*献|文\s*献|references?|bibliography|literature cited"
)
_COI_HEADING = _heading(
    r"(?:開示すべき)?利益相反(?:の開示|開示|に関する開示|自己申告|状態)?|COI(?:\s*開示)?|"
    r"conflicts? of interests?|competing interests?|declaration of interests?|disclosures?"
)
_ACK_HEADING = _heading(r"謝\s*辞|acknowledge?ments?")
_OTHER_HEADING = _heading(
    r"緒\s*言|はじめに|序\s*[論文言]|背\s*景|目\s*的|方\s*法|対象と方法|対象および方法|結\s*果|症\s*例"
    r"|症例提示|考\s*察|結\s*語|結\s*論|おわりに|まとめ|要\s*旨|抄\s*録|要\s*約|付\s*録|図の説明|図表の説明"
    r"|abstract|summary|introduction|background|methods?|materials and methods|results?|case reports?"
    r"|case presentation|discussion|conclusions?|appendix|figure legends?|key ?words?|キーワード|著者の貢献"
    r"|funding|研究資金|資金源"
)
_COI_LINE = re.compile(
    r"^[\s　]*[【\[［(（]?(?:利益相反|COI|conflicts? of interests?|competing interests?)[】\]］)）]?[\s　]*[:：]"
    r"|開示すべき利益相反|利益相反(?:は|が)?(?:ない|なし|無し|ありません|存在しない)"
    r"|(?:no|any) (?:potential )?(?:conflicts? of interests?|competing interests?)"
    r"|declare (?:that they have )?no (?:conflicts?|competing)",
    re.IGNORECASE,
)
_ACK_LINE = re.compile(
    r"^[\s　]*[【\[［(（]?(?:謝\s*辞|acknowledge?ments?)[】\]］)）]?[\s　]*[:：]", re.IGNORECASE
)
# a citation: numbered line, or one with a year and volume/pages
_NUMBERED = re.compile(r"^[\s　]*(?:[0-9０-９]{1,3}[)）.．]|[\[［(（][0-9０-９]{1,3}[\]］)）])")
_YEAR = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
_VOLPAGE = re.compile(
    r"[0-9]+\s*(?:\([0-9\-]+\))?\s*[:：]\s*[0-9]+|[0-9]+\s*巻|[0-9]+\s*頁|\bpp?\.\s*[0-9]|[0-9]+\s*[-–－～~]\s*[0-9]+"
)
_CITE_WORDS = re.compile(r"\bet al\b|他[:：,，.．]|編[:：]|\bdoi\b|\bPMID\b|https?://|\bIn:", re.IGNORECASE)
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_CONTACT = re.compile(
    r"^[\s　]*[*＊※]?[\s　]*(?:連絡先|別刷(?:り)?請求先|責任著者|問い合わせ先|corresponding author|correspondence|"
    r"reprint requests?|address for correspondence|〒)"
    r"|[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+",
    re.IGNORECASE,
)
_DATES = re.compile(
    r"^[\s　]*[(（]?(?:受付|受理|採択|掲載決定|原稿受付|received|accepted|published)(?:日)?[\s　]*[:：]?[\s　]*"
    r"(?:[0-9０-９]|令和|平成|[A-Z][a-z]+\s+[0-9])",
    re.IGNORECASE,
)
_AFFILIATION = re.compile(
    r"大学|病院|講座|教室|医学部|研究科|研究所|研究センター|医療センター|クリニック|診療所|医院|学会|"
    r"(?:内|外|小児|産婦人|皮膚|眼|耳鼻咽喉|泌尿器|整形外|精神|放射線|麻酔|歯)科|部門|"
    r"university|hospital|department|dept\.|school of medicine|institute|clinic|center|centre",
    re.IGNORECASE,
)
_MARK = r"[0-9０-９¹²³⁴⁵⁶⁷⁸⁹⁰*＊†‡§]"
_NAME = r"(?:[\u4e00-\u9fff々〆ヶ\u30a0-\u30ff]{1,5}[\s　]?[\u4e00-\u9fff々\u3041-\u309f\u30a0-\u30ff]{1,5}|[A-Z][a-z]+\s+[A-Z][a-z]+)"
_AUTHOR_LINE = re.compile(
    rf"^[\s　]*{_NAME}[\s　]*(?:{_MARK}+[,，)）]?)*[\s　]*(?:[,，、・][\s　]*{_NAME}[\s　]*(?:{_MARK}+[,，)）]?)*[\s　]*)*$"
)
_SENTENCE_END = re.compile(r"[。．.][」』）)]?$")
_HEADER_HINT = re.compile(
    r"誌|雑誌|会報|学会|巻|号|Vol\.?|No\.|Journal|J\.|Jpn|Med\b|他$|et al\.?$|^[\s　\-―─–—－~～・]*[0-9]+[\s　\-―─–—－~～・]*$",
    re.IGNORECASE,
)
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_DIGITS = re.compile(r"[0-9０-９]+")


def _is_heading(line: str) -> bool:
    return len(line.strip()) <= 40 and bool(
        _REF_HEADING.match(line)
        or _COI_HEADING.match(line)
        or _ACK_HEADING.match(line)
        or _OTHER_HEADING.match(line)
    )


def _is_citation(line: str) -> bool:
    """A reference-list entry: a year and volume/pages (or an author/doi marker), numbered or not."""
    return bool(_YEAR.search(line)) and bool(_VOLPAGE.search(line) or _CITE_WORDS.search(line))


def _is_prose(line: str) -> bool:
    """A line of running text (ends a references block that has no following heading)."""
    s = line.strip()
    if len(s) < 30 or _NUMBERED.match(s) or _is_citation(s):
        return False
    return len(s) >= 80 or len(_HIRAGANA.findall(s)) / len(s) >= 0.2 or s.endswith("。")


def _is_author_line(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 100 or _SENTENCE_END.search(s):
        return False
    if not _AUTHOR_LINE.match(s):
        return False
    # one bare word (a title such as "症例報告") is not an author line: need a marker or a list
    return bool(re.search(_MARK, s)) or bool(re.search(r"[,，、・]", s))


def _is_affiliation(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 150 or "。" in s or _SENTENCE_END.search(s) or not _AFFILIATION.search(s):
        return False
    return len(_HIRAGANA.findall(s)) <= 2  # affiliations are noun phrases: (almost) no hiragana


def clean_paper(text: str, *, kinds=KINDS, min_header_repeats: int = 3, front_lines: int = 20):
    """``(cleaned text, {kind: lines removed})``."""
    original = text.split("\n")
    lines = [ln.translate(_FULLWIDTH) for ln in original]  # detection on ASCII digits and letters
    drop: dict[int, str] = {}
    n = len(lines)

    if "running_headers" in kinds:
        keys = [_DIGITS.sub("0", ln.strip()) for ln in lines]
        counts = Counter(k for k in keys if k)
        for i, (ln, key) in enumerate(zip(lines, keys)):
            s = ln.strip()
            if (
                key
                and counts[key] >= min_header_repeats
                and len(s) <= 60
                and not s.endswith(("。", "．"))
                and _HEADER_HINT.search(s)
                and not _is_heading(s)
            ):
                drop[i] = "running_headers"

    def block(start: int, kind: str, stop) -> None:
        """Drop the heading at ``start`` and following lines until ``stop(line)`` or a heading."""
        drop.setdefault(start, kind)
        for j in range(start + 1, n):
            s = lines[j].strip()
            if j in drop:
                continue
            if s and _is_heading(s):
                return
            if stop(j, s):
                return
            drop[j] = kind

    for i, ln in enumerate(lines):
        s = ln.strip()
        if not s or i in drop:
            continue
        if "references" in kinds and _REF_HEADING.match(s) and len(s) <= 40:
            block(i, "references", lambda j, s: bool(s) and _is_prose(s))
        elif "coi" in kinds and _COI_HEADING.match(s) and len(s) <= 40:
            block(i, "coi", _paragraph_end(lines))
        elif "acknowledgments" in kinds and _ACK_HEADING.match(s) and len(s) <= 40:
            block(i, "acknowledgments", _paragraph_end(lines))
        elif "coi" in kinds and _COI_LINE.search(s) and len(s) <= 400:
            drop[i] = "coi"
        elif "acknowledgments" in kinds and _ACK_LINE.search(s):
            drop[i] = "acknowledgments"
        elif "front_matter" in kinds and _CONTACT.search(s) and len(s) <= 200:
            drop[i] = "front_matter"

    if "references" in kinds:  # headingless reference lists: >= 3 numbered citations in a row
        i = 0
        while i < n:
            j = i
            while j < n and (not lines[j].strip() or (_NUMBERED.match(lines[j]) and _is_citation(lines[j]))):
                j += 1
            run = [k for k in range(i, j) if lines[k].strip()]
            if len(run) >= 3:
                for k in run:
                    drop.setdefault(k, "references")
            i = max(j, i + 1)

    if "front_matter" in kinds:
        seen_text = 0
        for i, ln in enumerate(lines[:front_lines]):
            s = ln.strip()
            if not s or i in drop:
                continue
            if _is_heading(s):
                break
            if _is_author_line(s) or _is_affiliation(s) or _DATES.match(s):
                drop[i] = "front_matter"
            else:
                seen_text += 1
                if seen_text > 3:  # title, subtitle, English title: then the text starts
                    break

    removed = Counter(kind for i, kind in drop.items() if lines[i].strip())
    kept = [ln for i, ln in enumerate(original) if i not in drop]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    return out, {k: removed.get(k, 0) for k in KINDS}


def _paragraph_end(lines):
    """Stop at a blank line that follows some text (end of the statement's paragraph)."""

    def stop(j: int, s: str) -> bool:
        return not s and bool(lines[j - 1].strip()) and j > 0

    return stop


@register_step("paper_sections")
class PaperSectionCleaner(BaseFormatter):
    """Remove references, COI and acknowledgment statements, author/affiliation blocks and running
    headers from plain-text papers (table in :mod:`jmedcorpus.text.sections`). Drops no document.

    Writes ``sections_removed_chars`` and per kind ``sections_<kind>_lines``.

    Args:
        remove: kinds to remove, any of references, coi, acknowledgments, front_matter,
            running_headers (default all).
        min_header_repeats: a short header/footer line is removed when it occurs at least this many
            times (digits ignored). Default 3.
        front_lines: how many lines from the top may hold the author/affiliation block. Default 20.
    """

    name = "paper sections"
    signal_fields: ClassVar[dict[str, str]] = {
        META_REMOVED_CHARS: "int64",
        **{_meta_lines(k): "int64" for k in KINDS},
    }

    def __init__(
        self,
        *,
        remove: list[str] = KINDS,
        min_header_repeats: int = 3,
        front_lines: int = 20,
    ) -> None:
        super().__init__()
        unknown = [k for k in remove if k not in KINDS]
        if isinstance(remove, str) or unknown:
            raise ValueError(f"remove: unknown kind {unknown or remove!r}; choose from {', '.join(KINDS)}")
        if min_header_repeats < 2:
            raise ValueError(f"min_header_repeats must be at least 2, got {min_header_repeats}")
        if front_lines < 0:
            raise ValueError(f"front_lines must be >= 0, got {front_lines}")
        self.remove = tuple(remove)
        self.min_header_repeats = min_header_repeats
        self.front_lines = front_lines

    def clean(self, text: str) -> tuple[str, dict[str, int]]:
        return clean_paper(
            text, kinds=self.remove, min_header_repeats=self.min_header_repeats, front_lines=self.front_lines
        )

    def format(self, text: str) -> str:
        return self.clean(text)[0]

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            self.stat_update("total")
            with self.track_time():
                before = doc.text
                doc.text, counts = self.clean(before)
                doc.metadata[META_REMOVED_CHARS] = len(before) - len(doc.text)
                for kind, count in counts.items():
                    doc.metadata[_meta_lines(kind)] = count
            yield doc
