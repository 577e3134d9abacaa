"""JATS XML articles (J-STAGE, PubMed Central ``.nxml``) → one document per file.

Text, in order: the article title (in the article's language), the abstract(s), then the body
``sec`` elements in document order, each section title on its own line before its paragraphs.
Structured abstracts keep their section titles the same way. Paragraphs are joined with newlines.

- Lines: only ``<p>``, ``<title>``, list items and ``<break/>`` start one. The line breaks and
  indentation of pretty-printed XML are source whitespace: one space, or nothing between two
  Japanese characters (``肝膿瘍を⏎  発症した`` → ``肝膿瘍を発症した``).
- Inline markup (``<italic>``, ``<bold>``, ``<sup>``, ``<sub>``, ``<named-content>`` ...) is
  flattened to its text. A numeric superscript after a digit or a non-Japanese letter is an
  exponent and keeps its caret (``10<sup>7</sup>`` → ``10^7``, ``×10<sup>3</sup>/μL`` →
  ``×10^3/μL``, ``χ<sup>2</sup>`` → ``χ^2``), as is a short bracketed expression
  (``x<sup>(n−1)</sup>`` → ``x^(n−1)``); a lone letter (``P<sup>a</sup>``) may be a note mark.
- Citations (``<xref ref-type="bibr">``): numeric ones (``[12]``, ``<sup>1,3)</sup>``, ``12–15``)
  are dropped with their brackets and separators when ``drop_citations`` (default), leaving no
  ``, ,`` or `` .`` behind; author-year ones (``Chamberlin (1915)``, ``Tremblay & Kraus, 2003``)
  are words of the sentence and stay. Footnote and affiliation markers (``<xref
  ref-type="fn">*</xref>``) go; figure/table cross-references (``図1``, ``Table 2``) stay.
- Math keeps its text: MathML tokens linearized (``<msup><mi>x</mi><mn>2</mn></msup>`` → ``x^2``,
  fractions ``a/b``), else the TeX source, else its plain text; a display formula is its own line
  (inline, between spaces, when it is inside a ``<p>``). A formula that is only an image
  (``<graphic>``) is a placeholder, ``[formula]``, or ``[数式]`` in a Japanese article
  (``xml:lang="ja"``), so that the words around it are not glued (``could be written [formula]
  in which``); next to Japanese text it takes no spaces (``式は[数式]である``).
- English abstracts of a non-English article (J-STAGE's ``<trans-abstract xml:lang="en">``) are
  dropped by default (``english_abstract="drop"``): the corpus is Japanese. ``"keep"`` keeps them
  after the article-language abstract. An English article's own abstract is always kept (the
  language filter decides about English documents).
- ``<fig>`` and ``<table-wrap>`` captions (label, title, caption paragraphs, table footnotes) are
  included only with ``captions=True``; table cells never are.
- Never in the text: ``<ref-list>`` (references), ``<ack>`` (謝辞), ``<fn-group>`` (利益相反 /
  COI, author notes), ``<app-group>``, ``<glossary>``, supplementary material, the author list and
  affiliations (they are in ``<front>``, which contributes only title and abstracts), and body
  sections that are back matter by ``sec-type`` or by title in English, Japanese, Portuguese or
  Spanish: competing interests / 利益相反, funding / 研究費, author contributions / 著者の貢献,
  acknowledgements / 謝辞.
- A root ``<article>`` in a namespace (Elsevier's ``ja`` DTD, other non-JATS formats) is not
  JATS and is quarantined as such.

Metadata (``doc.metadata`` keys, see :data:`JATS_FIELDS` for their Arrow types): ``doi``,
``pmcid`` (``PMC…``), ``pmid``, ``publisher_id`` (J-STAGE's article id), ``journal``, ``year``
(earliest publication year), ``article_type`` (``article-type`` attribute), ``article_language``
(``xml:lang`` of ``<article>``; not ``language``, which is the language filter's signal),
``title``, ``license`` (normalized by :func:`jmedcorpus.text.licenses.normalize_license`:
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
BREAK = "\u2028"  # a line break the markup asked for (<break/>); source newlines are spaces
CITE = "\ue000"  # where a dropped numeric citation was, until its separators are removed too
_SEP = r"[,，、;；\-–—−~～]"
_CITE_GROUP = re.compile(
    rf"\s*(?:[\[(（［]\s*{CITE}(?:\s*{_SEP}?\s*{CITE})*\s*{_SEP}?\s*[\])）］]|{CITE}(?:\s*{_SEP}?\s*{CITE})*)"
)
_CITE_RESIDUE = re.compile(r"\s?[\[(（［]\s*[,，、;；\-–—−~～\s]*[\])）］]")
# separators a dropped citation left against a bracket: "(; Smith 2003" and "Smith 2003; )"
_BRACKET_SEP = re.compile(r"(?<=[\[(（［])\s*(?:[,，、;；]\s*)+|\s*(?:[,，、;；]\s*)+(?=[\])）］])")
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # a word: an author-year citation, not a number
# ``7``, ``-1``, ``–7`` (an en dash as minus), or a short parenthesized expression with a letter
# and an operator, ``(n−1)``, ``(n/2)`` (not ``(1–3)``: a superscript citation range)
_EXPONENT = re.compile(r"[−–\-+]?\d+(?:\.\d+)?|\((?=[^()]*[^\W\d_])(?=[^()]*[−–\-+/*⋅·])[^()]{2,12}\)")
_MARKER_XREFS = {"fn", "author-notes", "corresp", "aff"}  # "other" is Movie 1, Video 1: words
_BACK_MATTER_SEC_TYPES = {
    "coi-statement",
    "conflict",
    "conflicts",
    "funding",
    "funding-information",
    "financial-disclosure",
    "author-contributions",
    "contributions",
    "acknowledgment",
    "acknowledgments",
    "acknowledgement",
    "acknowledgements",
    "supplementary-material",
}
_BACK_MATTER_TITLE = re.compile(
    r"(?:\d+[.\s]*)?(?:"
    r"competing (?:financial )?interests?|conflicts? of interests?|declarations? of (?:competing )?interests?"
    r"|(?:financial )?disclosures?|funding(?: sources| statement| information)?|sources? of funding"
    r"|financial support|grant support|authors?['’]?s?['’]? contributions?|contributions? of (?:the )?authors"
    r"|acknowledge?ments?"
    r"|利益相反.*|COI|謝辞|研究資金|研究費|資金提供|資金|助成|著者(?:の)?貢献|著者の役割"
    r"|conflitos? de interesses?|financiamento|fontes? de financiamento|contribui[çc](?:[ãa]o|[õo]es) dos autores"
    r"|agradecimentos?|conflictos? de intereses?|financiaci[óo]n|contribuci[óo]n(?:es)? de (?:los )?autores"
    r"|agradecimientos?"
    r")\s*[:.：]?",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")
_JA = r"\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff01-\uff60"
_JA_CHAR = re.compile(f"[{_JA}]")
_CLOSING = tuple(".,;:!?)]}．。、，；：）」")  # what follows a word without a space
FORMULA_PLACEHOLDER = "[formula]"  # a formula that is only an image
FORMULA_PLACEHOLDER_JA = "[数式]"
# no space between the Japanese placeholder and Japanese text: ``式は [数式] である`` → ``式は[数式]である``
_JA_PLACEHOLDER_SPACE = re.compile(
    rf"(?<=[{_JA}]) (?={re.escape(FORMULA_PLACEHOLDER_JA)})|(?<={re.escape(FORMULA_PLACEHOLDER_JA)}) (?=[{_JA}])"
)
# a source line break next to a Japanese character is nothing (Japanese has no spaces)
_JA_BREAK = re.compile(rf"(?<=[{_JA}])[^\S\n]*\n\s*|\s*\n[^\S\n]*(?=[{_JA}])")
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


def _is_bibr(el, ref_ids: frozenset = frozenset()) -> bool:
    """A bibliography citation: ``ref-type="bibr"``, or an ``<xref>`` whose targets are all
    references (``<ref id>``), whatever its ``ref-type`` says (SciELO files carry odd ones)."""
    if _local(el.tag) != "xref":
        return False
    rids = (el.get("rid") or "").split()
    return el.get("ref-type") == "bibr" or bool(rids) and all(r in ref_ids for r in rids)


def _all_text(el) -> str:
    return "".join(el.itertext())


def _is_numeric(text: str) -> bool:
    """``12``, ``[3, 5–7]``, ``1)``: a citation number, not an author-year citation."""
    return not _LETTERS.search(text)


def _is_citation_sup(el, ref_ids: frozenset = frozenset()) -> bool:
    """``<sup><xref ref-type="bibr">1</xref>,<xref ...>3</xref>)</sup>``: a superscript citation."""
    if _local(el.tag) != "sup" or not any(_is_bibr(c, ref_ids) for c in el):
        return False
    rest = (el.text or "") + "".join((c.tail or "") + ("" if _is_bibr(c, ref_ids) else "x") for c in el)
    return not re.sub(r"[\s,，、\-–—−~～()\[\]）（]", "", rest)


def _is_back_matter(sec) -> bool:
    """A body ``<sec>`` that is COI, funding, author contributions or acknowledgements."""
    if (sec.get("sec-type") or "").lower() in _BACK_MATTER_SEC_TYPES:
        return True
    title = _find(sec, "title")
    return title is not None and bool(_BACK_MATTER_TITLE.fullmatch(_clean(_all_text(title))))


_INVISIBLE = "\u2061\u2062\u2063\u2064"  # MathML's invisible function application, times, comma, plus


def _wrap(s: str) -> str:
    """Parentheses unless ``s`` is one number or one name: ``x^2``, ``β_std``, ``/(2a)``."""
    s = s.strip()
    return s if s.isdigit() or s.isalpha() or len(s) <= 1 else f"({s})"


def _mathml(el) -> str:
    """Linear text of a MathML element: tokens in order, ``x^2``, ``x_i``, ``a/b``, ``√(x)``."""
    name = _local(el.tag)
    if name in ("mi", "mn", "mo", "ms"):
        return (el.text or "").strip().strip(_INVISIBLE)
    if name == "mtext":
        return el.text or ""
    if name in ("annotation", "annotation-xml"):
        return ""
    kids = [_mathml(c) for c in el]
    kids = [k for k in kids if k] if name != "semantics" else kids[:1]
    if name == "msup" and len(kids) == 2:
        return f"{kids[0]}^{_wrap(kids[1])}"
    if name == "msub" and len(kids) == 2:
        return f"{kids[0]}_{_wrap(kids[1])}"
    if name == "msubsup" and len(kids) == 3:
        return f"{kids[0]}_{_wrap(kids[1])}^{_wrap(kids[2])}"
    # limits of a large operator (∑, ∏, lim): ``∏_(i=0)^(n)``, then a space before its operand
    if name == "munderover" and len(kids) == 3:
        return f"{kids[0]}_{_wrap(kids[1])}^{_wrap(kids[2])} "
    if name == "munder" and len(kids) == 2:
        return f"{kids[0]}_{_wrap(kids[1])} "
    if name == "mover" and len(kids) == 2 and el.get("accent") != "true":
        return f"{kids[0]}^{_wrap(kids[1])} "
    if name == "mfrac" and len(kids) == 2:
        return f"{_wrap(kids[0])}/{_wrap(kids[1])}"
    if name in ("msqrt", "mroot") and kids:
        return f"√({kids[0]})"
    return "".join(kids)


def _tex(source: str) -> str:
    body = source.split("\\begin{document}", 1)[-1].split("\\end{document}", 1)[0]
    return _WS.sub(" ", body.replace("$", "")).strip()


def _math_text(el) -> str:
    """Text of ``<inline-formula>``, ``<disp-formula>`` or a bare ``<math>``: MathML, else TeX."""
    if _local(el.tag) == "math":
        return _mathml(el)
    math = next(_iter(el, "math"), None)
    if math is not None:
        return _mathml(math)
    tex = next(_iter(el, "tex-math"), None)
    return _tex(tex.text or "") if tex is not None else ""


def _ends_with_base(parts: list[str]) -> bool:
    """Whether the text so far ends in a digit, a letter other than Japanese (Latin, Greek ``χ``,
    ``Å``) or ``)``: what an exponent raises. After Japanese a bare number is a citation."""
    for part in reversed(parts):
        if part:
            last = part[-1]
            return last.isdigit() or last == ")" or last.isalpha() and not _JA_CHAR.match(last)
    return False


class _Renderer:
    def __init__(self, options: JatsOptions, ref_ids: frozenset = frozenset(), lang: str | None = None):
        self.options, self.ref_ids = options, ref_ids
        self.label = ""  # a section title ending in a colon, waiting for its paragraph
        japanese = bool(lang) and lang.split("-")[0] == "ja"
        self.placeholder = FORMULA_PLACEHOLDER_JA if japanese else FORMULA_PLACEHOLDER

    def image_formula(self, el) -> str:
        """The placeholder when a formula without text is an image (``<graphic>``), else nothing."""
        images = ("graphic", "inline-graphic")
        return self.placeholder if any(_local(e.tag) in images for e in el.iter()) else ""

    # --- inline ---------------------------------------------------------------------------------
    def inline(self, el, parts: list[str]) -> None:
        """Append the flattened text of ``el``'s content (not its tail) to ``parts``."""
        if el.text:
            parts.append(el.text)
        for child in el:
            name = _local(child.tag)
            self.inline_child(child, name, parts)
            if child.tail:
                parts.append(child.tail)

    def inline_child(self, child, name: str, parts: list[str]) -> None:
        if name in ("inline-formula", "disp-formula", "math"):
            text = _math_text(child)
            if not text and name != "math":  # plain text (``E = mc<sup>2</sup>``), else an image
                sub: list[str] = []
                self.inline(child, sub)
                text = "".join(sub) if "".join(sub).strip() else self.image_formula(child)
            # no space between the formula and the punctuation after it: ``x^2.``, ``[formula],``
            after = "" if (child.tail or "")[:1] in _CLOSING else " "
            parts.append(f" {text}{after}")
        elif name == "break":
            parts.append(BREAK)
        elif name in _SKIP or name in _FLOATS or name in _BLOCKS and name not in ("p", "title"):
            pass
        elif name == "xref" and child.get("ref-type") in _MARKER_XREFS:
            pass  # footnote and affiliation markers (*, †, a) are not words
        elif self.options.drop_citations and (
            _is_bibr(child, self.ref_ids) or _is_citation_sup(child, self.ref_ids)
        ):
            if _is_numeric(_all_text(child)):
                parts.append(CITE)
            else:
                self.inline(child, parts)  # "Chamberlin (1915)": part of the sentence
        else:
            if name == "sup" and _EXPONENT.fullmatch(_all_text(child).strip()) and _ends_with_base(parts):
                parts.append("^")
            self.inline(child, parts)

    def line(self, el) -> str:
        parts: list[str] = []
        self.inline(el, parts)
        text = "".join(parts)
        if CITE in text:
            text = _CITE_GROUP.sub("", text)
            text = _BRACKET_SEP.sub("", _CITE_RESIDUE.sub("", text))
        lines = [_clean(p) for p in text.split(BREAK)]
        if FORMULA_PLACEHOLDER_JA in text:
            lines = [_JA_PLACEHOLDER_SPACE.sub("", line) for line in lines]
        return "\n".join(c for c in lines if c)

    # --- blocks ---------------------------------------------------------------------------------
    def blocks(self, el, out: list[str]) -> None:
        """Append the paragraphs (lines) of a block container, in document order."""
        for child in el:
            name = _local(child.tag)
            if name in _SKIP or name == "sec" and _is_back_matter(child):
                continue
            if name in _FLOATS:
                if self.options.captions:
                    self.caption(child, out)
                continue
            if name == "disp-formula":
                self.add(out, _clean(_math_text(child)) or self.line(child) or self.image_formula(child))
            elif name == "title":
                title = self.line(child)
                if title.endswith((":", "：")):  # "Objective:" labels the paragraph after it
                    if self.label:  # two labels in a row: the first stands alone
                        out.append(self.label)
                    self.label = title
                else:
                    self.add(out, title)
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
        if self.label:  # a label with nothing after it in its section stands alone
            out.append(self.label)
            self.label = ""

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

    def add(self, out: list[str], line: str) -> None:
        if line:
            if self.label:
                line = f"{self.label}{'' if self.label.endswith('：') else ' '}{line}"
                self.label = ""
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
    return renderer.line(el).replace("\n", " ") or None


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
    from jmedcorpus.text.licenses import ALL_RIGHTS_RESERVED, normalize_license

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
    if root.tag.startswith("{"):  # JATS <article> has no namespace; Elsevier's ja DTD has one
        namespace = root.tag[1:].split("}", 1)[0][:100]
        raise JatsError(f"not JATS: the root <article> is in the namespace {namespace}")
    lang = _lang(root, None)
    renderer = _Renderer(options, frozenset(r.get("id") for r in _iter(root, "ref") if r.get("id")), lang)
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
