"""JATS reader on J-STAGE- and PMC-style articles written for the tests (tests/data/jats)."""

import shutil

import pyarrow.parquet as pq
import pytest

from jmedcorpus import constants as C
from jmedcorpus.io.jats import JatsError, JatsOptions, parse_jats
from jmedcorpus.io.plan import file_kind, plan_units
from jmedcorpus.io.readers import Quarantined, ReaderConfig, UnitReader

JA = "jstage_case_report_ja.xml"
EN = "pmc_research_article_en.nxml"
BAD = "malformed_truncated.xml"


@pytest.fixture(scope="module")
def jats_dir(data_dir):
    return data_dir / "jats"


def article(jats_dir, name, **options):
    return parse_jats((jats_dir / name).read_bytes(), JatsOptions(**options))


def read_dir(path, config=None, chunk_bytes=1 << 20):
    docs, bad = [], []
    for unit in plan_units([str(path)], chunk_bytes=chunk_bytes):
        for item in UnitReader(unit, config or ReaderConfig()):
            (bad if isinstance(item, Quarantined) else docs).append(item)
    return docs, bad


def test_japanese_case_report_text_in_order(jats_dir):
    lines = article(jats_dir, JA).text.split("\n")
    assert lines[0] == "抗PD-L1抗体投与後に多発肝腫瘤を呈した非小細胞肺癌の1例"
    assert lines[1].startswith("症例は70歳，男性．血痰を主訴に当院紹介となり")  # Japanese abstract
    headings = [ln for ln in lines if ln in ("緒言", "症例", "考察", "鑑別診断", "結語")]
    assert headings == ["緒言", "症例", "考察", "鑑別診断", "結語"]
    assert lines.index("緒言") < lines.index("症例") < lines.index("考察") < lines.index("結語")
    # inline markup flattened, list items one per line, the last paragraph last
    assert "放射線化学療法後の維持療法としてデュルバルマブを投与したところ" in lines[1]
    assert "患者：70歳，男性．" in lines
    assert lines[lines.index("鑑別診断") + 2 : lines.index("結語")] == [
        "多発肝膿瘍",
        "肺癌の多発肝転移",
        "免疫関連有害事象としての肝炎",
    ]
    assert (
        lines[-1]
        == "抗PD-L1抗体投与後に照射野内の多発肝腫瘤を呈した1例を経験した．転移との鑑別に肝生検が有用であった．"
    )


def test_references_ack_coi_authors_and_citation_markers_are_excluded(jats_dir):
    text = article(jats_dir, JA).text
    for absent in (
        "Durvalumab after chemoradiotherapy",  # ref-list
        "肺癌診療ガイドライン",
        "文献",
        "謝辞",
        "深謝",  # ack
        "利益相反",
        "講演料",  # fn-group COI
        "山田",
        "東都大学",
        "yamada@example.ac.jp",  # contrib-group, aff, corresp
        "非小細胞肺癌;",
        "キーワード",
    ):
        assert absent not in text, absent
    # superscript citations 1,2) are gone with their punctuation; cross-references stay words
    assert "標準治療となっている．" in text
    assert "報告は少ない．" in text
    assert "入院時検査所見を表1に示す．" in text
    assert "多発小腫瘤を認めた（図1）．" in text


def test_english_abstract_dropped_by_default_kept_with_option(jats_dir):
    english = "A 70-year-old man with non-small cell lung cancer developed fever"
    assert english not in article(jats_dir, JA).text
    lines = article(jats_dir, JA, english_abstract="keep").text.split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith(english))
    assert lines[i - 1].startswith("症例は70歳")  # after the Japanese abstract, before the body
    assert lines[i + 1] == "緒言"
    assert "Abstract" not in lines
    with pytest.raises(ValueError, match="english_abstract"):
        JatsOptions(english_abstract="translate")


def test_captions_only_with_the_option(jats_dir):
    default = article(jats_dir, JA).text
    assert "入院時検査所見\n" not in default and "腹部造影CT" not in default and "矢印" not in default
    lines = article(jats_dir, JA, captions=True).text.split("\n")
    assert "表1 入院時検査所見" in lines
    assert "図1 腹部造影CT" in lines
    assert "照射野に一致して肝S2・S3に造影効果の乏しい多発小腫瘤を認める（矢印）．" in lines
    assert "WBC：白血球数，CRP：C反応性蛋白．" in lines  # table footnote goes with the caption
    assert not any("12,300" in ln or "基準値" in ln for ln in lines)  # never the table cells
    # captions follow the paragraph that precedes them
    assert lines.index("表1 入院時検査所見") == lines.index("入院時検査所見を表1に示す．") + 1


def test_japanese_metadata(jats_dir):
    md = article(jats_dir, JA).metadata
    assert md == {
        "doi": "10.99999/naika.112.1024",
        "publisher_id": "naika.112.1024",
        "journal": "日本臨床内科学雑誌",
        "year": 2023,
        "article_type": "case-report",
        "article_language": "ja",
        "title": "抗PD-L1抗体投与後に多発肝腫瘤を呈した非小細胞肺癌の1例",
        "license": "CC BY 4.0",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
    }


def test_pmc_article_all_rights_reserved(jats_dir):
    a = article(jats_dir, EN)
    md = a.metadata
    assert md["license"] == "all rights reserved" and "license_url" not in md
    assert md["pmcid"] == "PMC8000001" and md["pmid"] == "30000001"
    assert md["doi"] == "10.99999/jce.2021.04.012"
    assert md["year"] == 2021  # earliest publication date, not the PMC release
    assert md["article_type"] == "research-article" and md["article_language"] == "en"
    assert md["journal"] == "Journal of Clinical Epidemiology Examples"
    lines = a.text.split("\n")
    # an English article keeps its own (structured) abstract; section numbers (<label>) dropped
    assert lines[1:3] == [
        "Objectives",
        (
            "To estimate the association between statin use and hospitalization for community-acquired "
            "pneumonia in adults aged 65 years or older."
        ),
    ]
    assert "(HR 0.87; 95% CI 0.78–0.97)." in a.text
    assert (
        "Community-acquired pneumonia is a leading cause of hospitalization among older adults. Statins"
        in a.text
    )
    assert "lipid lowering." in a.text and "[" not in a.text  # [1,2] and [3–5] removed
    assert "within 90 days before the index date, with P<0.05 considered significant." in a.text  # &nbsp;
    assert "Cox models (Table 1)." in a.text
    assert "Baseline characteristics" not in a.text and "Cumulative incidence" not in a.text
    assert "We thank" not in a.text and "competing" not in a.text and "Jain" not in a.text
    with_captions = article(jats_dir, EN, captions=True).text.split("\n")
    assert "Table 1 Baseline characteristics of the cohort." in with_captions
    assert "Fig. 1 Cumulative incidence of pneumonia hospitalization by statin use." in with_captions


def test_citation_markers_can_be_kept(jats_dir):
    text = article(jats_dir, EN, drop_citations=False).text
    assert "older adults [1,2]." in text and "lipid lowering [3–5]." in text


@pytest.mark.parametrize(
    "data, detail",
    [
        (b"<article><body><p>unclosed</body></article>", "not well-formed XML at line 1"),
        (b"<html><body><p>\xe7\x97\x87\xe4\xbe\x8b</p></body></html>", "root element is <html>"),
        (b"<article><front/><body/></article>", "no title, abstract or body text"),
        (
            (
                b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                b"<article><body><p>&b;</p></body></article>"
            ),
            "entity declarations are not allowed",
        ),
        (b"\xff\xfe<\x00a", "not well-formed XML"),
    ],
)
def test_bad_articles_raise_jats_error_without_text(data, detail):
    with pytest.raises(JatsError, match=detail):
        parse_jats(data)


def test_file_kind_and_plan_groups_articles():
    assert file_kind("papers/PMC8000001.nxml") == "jats" and file_kind("a/B.XML") == "jats"
    assert file_kind("notes.txt") == "text"


def test_reader_over_a_directory_quarantines_the_malformed_file(jats_dir, tmp_path):
    src = tmp_path / "papers"
    shutil.copytree(jats_dir, src)
    (src / "notes.txt").write_text("症例は45歳，女性．", encoding="utf-8")
    (src / "empty.xml").write_bytes(b"  \n")
    units = plan_units([str(src)], chunk_bytes=1 << 20)
    # files in path order, grouped into units; text and JATS files are never mixed in one unit
    assert [(u.kind, len(u.files)) for u in units] == [("jats", 3), ("text", 1), ("jats", 1)]
    assert "JATS XML file(s)" in units[0].describe()
    docs, bad = read_dir(src)
    ids = [d.id for d in docs]
    assert ids == ["10.99999/naika.112.1024", "notes.txt", "10.99999/jce.2021.04.012"]
    ja = docs[0]
    assert ja.metadata[C.META_SOURCE] == JA and ja.metadata["license"] == "CC BY 4.0"
    assert ja.metadata["year"] == 2023 and "利益相反" not in ja.text
    assert sorted((q.file, q.error) for q in bad) == [
        ("empty.xml", C.QUARANTINE_EMPTY_FILE),
        (BAD, "invalid_xml"),
    ]
    q = next(q for q in bad if q.file == BAD)
    assert q.detail == "not well-formed XML at line 15, column 6"
    assert q.raw == (jats_dir / BAD).read_bytes()  # the raw bytes are kept
    # a tiny chunk size gives one unit per file
    small = plan_units([str(src)], chunk_bytes=1)
    assert [(u.kind, len(u.files)) for u in small] == [("jats", 1)] * 3 + [("text", 1), ("jats", 1)]


def test_reader_options_and_id_without_doi(jats_dir, tmp_path):
    data = (
        (jats_dir / JA)
        .read_bytes()
        .replace(b'<article-id pub-id-type="doi">10.99999/naika.112.1024</article-id>', b"")
    )
    (tmp_path / "nodoi.xml").write_bytes(data)
    docs, bad = read_dir(tmp_path, ReaderConfig(jats=JatsOptions(english_abstract="keep", captions=True)))
    assert not bad and docs[0].id == "nodoi.xml" and "doi" not in docs[0].metadata
    assert "図1 腹部造影CT" in docs[0].text and "A 70-year-old man" in docs[0].text


@pytest.mark.ray
def test_build_over_a_directory_of_articles(ray_local, jats_dir, tmp_path):
    import inspect

    import jmedcorpus.steps
    from jmedcorpus.pipelines.build import BuildOptions, build
    from jmedcorpus.recipe import StepSpec, load_recipe

    recipe = load_recipe()
    # Ray workers know the steps that jmedcorpus.steps imports
    with_license = "jmedcorpus.filters.license" in inspect.getsource(jmedcorpus.steps)
    if with_license:
        recipe.steps.insert(1, StepSpec("license", {"allow": ["CC BY"]}))
    out = tmp_path / "out"
    m = build(BuildOptions(inputs=[str(jats_dir)], output=str(out), recipe=recipe, workers=1, progress=False))
    c = m["counts"]
    assert c["records_in"] == 3 and c["quarantined_by_error"] == {"invalid_xml": 1}
    assert c["records_in"] == c["kept"] + c["removed"] + c["quarantined"]
    rows = pq.read_table(str(out / "data")).to_pylist()
    assert [r["id"] for r in rows] == ["10.99999/naika.112.1024"]  # the English article is dropped
    assert rows[0]["source"] == JA and rows[0]["text"].startswith("抗PD-L1抗体投与後に")
    if with_license:
        assert rows[0]["license"] == "CC BY 4.0"
        steps = {s["name"]: s for s in m["steps"]}
        assert steps["license"]["reasons"] == {"license_not_allowed": 1}
