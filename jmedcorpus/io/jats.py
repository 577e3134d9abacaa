"""JATS XML articles (J-STAGE, PubMed Central ``.nxml``) → one document per file.

Text, in order: the article title (in the article's language), the abstract(s), then the body
``sec`` elements in document order, each section title on its own line before its paragraphs.
Structured abstracts keep their section titles the same way. Paragraphs are joined with newlines.

- Inline markup (``<italic>``, ``<bold>``, ``<sup>``, ``<sub>``, ``<named-content>`` ...) is
  flattened to its text. Bibliography citations (``<xref ref-type="bibr">``) are dropped with the
  brackets or superscript around them (``[1, 2]``, ``<sup>1)</sup>``) when ``drop_citations``
  (default); figure/table cross-references (``図1``, ``Table 2``) are kept, they are words.
- English abstracts of a non-English article (J-STAGE's ``<trans-abstract xml:lang="en">``) are
  dropped by default (``english_abstract="drop"``): the corpus is Japanese. ``"keep"`` keeps them
  after the article-language abstract. An English article's own abstract is always kept (the
  language filter decides about English documents).
- ``<fig>`` and ``<table-wrap>`` captions (label, title, caption paragraphs, table footnotes) are
  included only with ``captions=True``; table cells never are. Math (MathML, TeX) is dropped.
- Never in the text: ``<ref-list>`` (references), ``<ack>`` (謝辞), ``<fn-group>`` (利益相反 /
  COI, author notes), ``<app-group>``, ``<glossary>``, supplementary material, the author list and
  affiliations (they are in ``<front>``, which contributes only title and abstracts).

Metadata (``doc.metadata`` keys, see :data:`JATS_FIELDS` for their Arrow types): ``doi``,
``pmcid`` (``PMC…``), ``pmid``, ``publisher_id`` (J-STAGE's article id), ``journal``, ``year``
(earliest publication year), ``article_type`` (``article-type`` attribute), ``article_language``
(``xml:lang`` of ``<article>``; not ``language``, which is the language filter's signal),
``title``, ``license`` (normalized by :func:`jmedcorpus.filters.license.normalize_license`:
``CC BY 4.0``, ``CC BY-NC-ND 4.0``, ``CC0 1.0``, ``all rights reserved``, ``other``; absent when the
article carries no license or copyright statement at all) and ``license_url``.

Safety: parsed with the standard library's expat-based ``xml.etree.ElementTree``, which never
fetches external entities or DTDs (PMC's ``<!DOCTYPE article PUBLIC ... "JATS-archivearticle1.dtd">``
is not loaded), and whose expat (>= 2.4.1) refuses exponential entity expansion ("billion
laughs"). Files that declare entities (``<!ENTITY``) are rejected outright (``invalid_xml``): JATS
articles never need them. The HTML named entities JATS files sometimes use without declaring
them (``&nbsp;``, ``&times;``) are resolved from :mod:`html.entities`. Articles nested deeper
than :data:`MAX_DEPTH` elements are rejected (the renderer recurses; real JATS is < 40 deep).

Encodings: expat reads UTF-8, UTF-16 and Latin-1 only, so a file with a UTF-16/32 byte order mark
or declaring any other encoding (``Shift_JIS``, ``EUC-JP``, ``CP932``: J-STAGE's older files) is
decoded with Python's codec for its declaration and parsed as text. A file declaring Shift_JIS
that uses Windows' extra characters (①, ～) is read as CP932, its superset.
"""

from __future__ import annotations

import codecs
import html.entities
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

# metadata key -> Arrow type, for a step's ``signal_fields`` (columns of the output shards)
JATS_FIELDS: dict[str, str] = {
    "doi": "string",
    "pmcid": "string",
    "pmid": "string",
    "publisher_id": "string",
    "journal": "string",
    "year": "int64",
    "article_type": "string",
    "article_language": "string",
    "title": "string",
    "license": "string",
    "license_url": "string",
}

ENGLISH_ABSTRACT_CHOICES = ("drop", "keep")

# never part of the text, wherever they appear
_SKIP = {
    "ref-list",
    "ack",
    "fn-group",
    "app-group",
    "glossary",
    "supplementary-material",
    "media",
    "graphic",
    "inline-graphic",
    "alternatives",  # appears around tables/formulas: their text variants would repeat
    "math",
    "tex-math",
    "disp-formula",
    "object-id",
    "label",  # section numbers ("1.", "2.1"); figure/table labels are read explicitly
    "fn",
    "table",
    "ext-link-tooltip",
}
_FLOATS = {"fig", "table-wrap", "fig-group", "table-wrap-group"}
_SKIP_ABSTRACT_TYPES = {"graphical", "teaser", "toc", "web-summary", "precis", "editor-summary"}
_BLOCKS = {
    "p",
    "sec",
    "title",
    "list",
    "list-item",
    "def-list",
    "def-item",
    "term",
    "def",
    "disp-quote",
    "boxed-text",
    "statement",
    "verse-group",
    "verse-line",
    "speech",
    "caption",
    "table-wrap-foot",
}
_ABSTRACT_HEADINGS = {"abstract", "summary", "要旨", "抄録", "要約", "和文要旨", "英文要旨"}
_CITE_RESIDUE = re.compile(r"\s?[\[(（［]\s*[,，、;；\-–—−~～\s]*[\])）］]")
_WS = re.compile(r"\s+")
_JA = r"\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff01-\uff60"
_JA_BREAK = re.compile(rf"(?<=[{_JA}])\s*\n\s*(?=[{_JA}])")
_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]{0,39})["']"""
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_SJIS = {"shift_jis", "shift_jis_2004", "shift_jisx0213"}
MAX_DEPTH = 256


class JatsError(ValueError):
    """The file is not a readable JATS article; the message is the quarantine detail (no text)."""


@dataclass(frozen=True)
class JatsOptions:
    """How JATS articles become text (see the module docstring)."""

    english_abstract: str = "drop"  # "drop" | "keep"
    captions: bool = False
    drop_citations: bool = True

    def __post_init__(self):
        if self.english_abstract not in ENGLISH_ABSTRACT_CHOICES:
            raise ValueError(
                f"english_abstract must be one of {', '.join(ENGLISH_ABSTRACT_CHOICES)}, "
                f"got {self.english_abstract!r}"
            )


@dataclass
class JatsArticle:
    text: str
    metadata: dict


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el, name: str) -> Iterator[ET.Element]:
    return (c for c in el if _local(c.tag) == name)


def _find(el, *path: str):
    """First descendant along ``path`` of local names (namespace-agnostic), or None."""
    current = [el]
    for name in path:
        current = [c for parent in current for c in _children(parent, name)]
        if not current:
            return None
    return current[0]


def _iter(el, name: str) -> Iterator[ET.Element]:
    return (e for e in el.iter() if _local(e.tag) == name)


def _clean(text: str) -> str:
    text = _JA_BREAK.sub("", text)  # line breaks of pretty-printed XML inside Japanese text
    return _WS.sub(" ", text).strip()


def _is_bibr(el) -> bool:
    return _local(el.tag) == "xref" and el.get("ref-type") == "bibr"


def _is_citation_sup(el) -> bool:
    """``<sup><xref ref-type="bibr">1</xref>,<xref ...>3</xref>)</sup>``: a superscript citation."""
    if _local(el.tag) != "sup" or not any(_is_bibr(c) for c in el):
        return False
    rest = (el.text or "") + "".join((c.tail or "") + ("" if _is_bibr(c) else "x") for c in el)
    return not re.sub(r"[\s,，、\-–—−~～()\[\]）（]", "", rest)


class _Renderer:
    def __init__(self, options: JatsOptions):
        self.options = options

    # --- inline ---------------------------------------------------------------------------------
    def inline(self, el, parts: list[str]) -> None:
        """Append the flattened text of ``el``'s content (not its tail) to ``parts``."""
        if el.text:
            parts.append(el.text)
        for child in el:
            name = _local(child.tag)
            skip = name in _SKIP or name in _FLOATS or name in _BLOCKS and name not in ("p", "title")
            if self.options.drop_citations and (_is_bibr(child) or _is_citation_sup(child)):
                skip = True
            if not skip:
                if name == "break":
                    parts.append("\n")
                self.inline(child, parts)
            if child.tail:
                parts.append(child.tail)

    def line(self, el) -> str:
        parts: list[str] = []
        self.inline(el, parts)
        text = "".join(parts)
        if self.options.drop_citations:
            text = _CITE_RESIDUE.sub("", text)
        return "\n".join(c for c in (_clean(p) for p in text.split("\n")) if c)

    # --- blocks ---------------------------------------------------------------------------------
    def blocks(self, el, out: list[str]) -> None:
        """Append the paragraphs (lines) of a block container, in document order."""
        for child in el:
            name = _local(child.tag)
            if name in _SKIP:
                continue
            if name in _FLOATS:
                if self.options.captions:
                    self.caption(child, out)
                continue
            if name == "title":
                self.add(out, self.line(child))
            elif name == "p":
                self.paragraph(child, out)
            elif name in ("list-item", "def-item", "verse-line", "term", "def"):
                if any(_local(c.tag) in _BLOCKS or _local(c.tag) in _FLOATS for c in child):
                    self.blocks(child, out)
                else:
                    self.add(out, self.line(child))
            elif name in _BLOCKS or name in ("sec-meta",):
                if name != "sec-meta":
                    self.blocks(child, out)
            else:  # an unexpected element directly in a block container: keep its words
                self.add(out, self.line(child))

    def paragraph(self, p, out: list[str]) -> None:
        """A ``<p>``: its text, then the lists, quotes and (optionally) floats nested in it."""
        self.add(out, self.line(p))
        for child in p:
            name = _local(child.tag)
            if name in _FLOATS:
                if self.options.captions:
                    self.caption(child, out)
            elif name in _BLOCKS and name not in ("title",) and name not in _SKIP:
                self.blocks(child, out) if name != "p" else self.paragraph(child, out)

    def caption(self, el, out: list[str]) -> None:
        name = _local(el.tag)
        if name in ("fig-group", "table-wrap-group"):
            for child in el:
                if _local(child.tag) in _FLOATS:
                    self.caption(child, out)
            return
        label = _find(el, "label")
        head = self.line(label) if label is not None else ""
        cap = _find(el, "caption")
        lines: list[str] = []
        if cap is not None:
            self.blocks(cap, lines)
        foot = _find(el, "table-wrap-foot")
        if foot is not None:
            for fn in _iter(foot, "fn"):
                self.blocks(fn, lines)
            self.blocks(foot, lines)
        if lines and head:
            lines[0] = f"{head} {lines[0]}"
        elif head:
            lines = [head]
        for line in lines:
            self.add(out, line)

    @staticmethod
    def add(out: list[str], line: str) -> None:
        if line:
            out.append(line)


def _lang(el, default: str | None) -> str | None:
    lang = el.get(XML_LANG) or el.get("lang")
    return lang.lower() if lang else default


def _is_english(lang: str | None) -> bool:
    return bool(lang) and lang.split("-")[0] == "en"


def _decoded(data: bytes) -> tuple[bytes | str, str]:
    """(what to feed expat, the start of the file as text for the entity check): the bytes when
    expat reads their encoding (UTF-8, UTF-16, undeclared), else the text decoded by Python."""
    codec = next((c for bom, c in _BOMS if data.startswith(bom)), None)
    m = _XML_DECL_ENCODING.match(data[:200])
    if codec is None and m:
        name = m.group(1).decode("ascii")
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            raise JatsError(f"unknown encoding {name!r} in the XML declaration") from None
    if codec in (None, "utf-8", "utf-16"):
        return data, data[:65536].decode(codec or "utf-8", "replace")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        try:
            text = data.decode("cp932") if codec in _SJIS else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            raise JatsError(f"not valid {codec} at byte {e.start}") from None
    return text, text[:65536]


def _parse(data: bytes) -> ET.Element:
    source, head = _decoded(data)
    if _ENTITY_DECL.search(head):
        raise JatsError("entity declarations are not allowed")
    parser = ET.XMLParser()
    parser.entity.update({k: chr(v) for k, v in html.entities.name2codepoint.items()})
    try:
        parser.feed(source)  # text: pyexpat reads it as UTF-8 whatever the declaration says
        root = parser.close()
    except ET.ParseError as e:
        line, col = e.position
        raise JatsError(f"not well-formed XML at line {line}, column {col}") from None
    stack = [(root, 1)]
    while stack:  # iterative: the depth check must not recurse itself
        el, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JatsError(f"elements nested deeper than {MAX_DEPTH}")
        stack.extend((child, depth + 1) for child in el)
    return root


def _meta_text(renderer: _Renderer, el) -> str | None:
    if el is None:
        return None
    return renderer.line(el) or None


def _choose(elements: list, lang: str | None):
    """The element in ``lang`` if there is one, else the first (or None)."""
    for el in elements:
        if _lang(el, None) == lang:
            return el
    return elements[0] if elements else None


def _year(meta) -> int | None:
    years = []
    for date in list(_children(meta, "pub-date")) + list(_children(meta, "pub-date-not-available")):
        y = _find(date, "year")
        if y is not None and (y.text or "").strip()[:4].isdigit():
            years.append(int(y.text.strip()[:4]))
    if not years:
        for date in _iter(meta, "date"):  # history dates as a last resort
            y = _find(date, "year")
            if y is not None and (y.text or "").strip()[:4].isdigit():
                years.append(int(y.text.strip()[:4]))
    return min(years) if years else None


def _license(renderer: _Renderer, meta) -> tuple[str | None, str | None]:
    from jmedcorpus.filters.license import ALL_RIGHTS_RESERVED, normalize_license

    permissions = _find(meta, "permissions")
    if permissions is None:
        return None, None
    candidates: list[str] = []
    url = None
    for lic in _children(permissions, "license"):
        href = lic.get(XLINK_HREF)
        for ref in _children(lic, "license_ref"):  # <ali:license_ref>
            href = href or (ref.text or "").strip()
        if href:
            url = url or href.strip()
            candidates.append(href)
        candidates.append(renderer.line(lic))
        if lic.get("license-type"):
            candidates.append(lic.get("license-type"))
    for cand in candidates:
        name = normalize_license(cand)
        if name and name not in ("other", ALL_RIGHTS_RESERVED):
            return name, url
    for cand in candidates:
        if normalize_license(cand) == ALL_RIGHTS_RESERVED:
            return ALL_RIGHTS_RESERVED, url
    if candidates:
        return "other", url
    statement = _find(permissions, "copyright-statement")
    if statement is not None or _find(permissions, "copyright-holder") is not None:
        return ALL_RIGHTS_RESERVED, None  # copyright without a license: no reuse granted
    return None, None


def parse_jats(data: bytes, options: JatsOptions | None = None) -> JatsArticle:
    """Text and metadata of one JATS article; raises :class:`JatsError` (detail without text)."""
    try:
        return _parse_jats(data, options or JatsOptions())
    except RecursionError:  # a safety net: MAX_DEPTH keeps real input far from the limit
        raise JatsError("elements nested too deeply") from None


def _parse_jats(data: bytes, options: JatsOptions) -> JatsArticle:
    root = _parse(data)
    if _local(root.tag) != "article":
        raise JatsError(f"root element is <{_local(root.tag)}>, expected <article>")
    renderer = _Renderer(options)
    lang = _lang(root, None)
    front = _find(root, "front")
    meta = _find(front, "article-meta") if front is not None else None
    journal_meta = _find(front, "journal-meta") if front is not None else None
    md: dict = {}
    lines: list[str] = []

    if meta is not None:
        for aid in _children(meta, "article-id"):
            value = (aid.text or "").strip()
            kind = aid.get("pub-id-type")
            if not value:
                continue
            if kind == "doi":
                md.setdefault("doi", value)
            elif kind in ("pmc", "pmcid"):
                md.setdefault("pmcid", value if value.upper().startswith("PMC") else f"PMC{value}")
            elif kind == "pmid":
                md.setdefault("pmid", value)
            elif kind == "publisher-id":
                md.setdefault("publisher_id", value)
        group = _find(meta, "title-group")
        titles = list(_iter(meta if group is None else group, "article-title"))
        title = _meta_text(renderer, _choose(titles, lang))
        if title:
            md["title"] = title
            lines.append(title)
        md["year"] = _year(meta)
        md["license"], md["license_url"] = _license(renderer, meta)

        for ab in list(_children(meta, "abstract")) + list(_children(meta, "trans-abstract")):
            if ab.get("abstract-type") in _SKIP_ABSTRACT_TYPES:
                continue
            ab_lang = _lang(ab, lang if _local(ab.tag) == "abstract" else None)
            if _is_english(ab_lang) and not _is_english(lang) and options.english_abstract == "drop":
                continue
            before = len(lines)
            renderer.blocks(ab, lines)
            if len(lines) > before and lines[before].lower() in _ABSTRACT_HEADINGS:
                del lines[before]

    if journal_meta is not None:
        titles = list(_iter(journal_meta, "journal-title")) or list(
            _iter(journal_meta, "abbrev-journal-title")
        )
        md["journal"] = _meta_text(renderer, _choose(titles, lang))

    body = _find(root, "body")
    if body is not None:
        renderer.blocks(body, lines)
    text = "\n".join(lines)
    if not text.strip():
        raise JatsError("article has no title, abstract or body text")
    md["article_type"] = root.get("article-type")
    md["article_language"] = lang
    return JatsArticle(text, {k: v for k, v in md.items() if v is not None})
