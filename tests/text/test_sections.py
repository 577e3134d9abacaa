"""Paper section cleaner on real case-report text (MedTxt-CR) laid out as published papers."""

import json

import pytest
from datatrove.data import Document

from jmedcorpus.text.normalize import normalize_text
from jmedcorpus.text.sections import KINDS, PaperSectionCleaner, clean_paper


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def papers(data_dir):
    return load(data_dir / "papers_ja.jsonl")


@pytest.fixture(scope="module")
def reports(data_dir):
    return {r["id"]: r for r in load(data_dir / "case_reports_ja.jsonl")}


@pytest.mark.parametrize("normalized", [False, True])
def test_clinical_text_survives_the_rest_goes(papers, normalized):
    for paper in papers:
        text = normalize_text(paper["text"]) if normalized else paper["text"]
        body = [normalize_text(x) if normalized else x for x in paper["body"]]
        extra = [normalize_text(x) if normalized else x for x in paper["kept_extra"]]
        out, counts = clean_paper(text)
        kept = [ln for ln in out.split("\n") if ln.strip()]
        # every real clinical line is kept, in order, and nothing else but title and headings
        assert [ln for ln in kept if ln in body] == body, paper["id"]
        assert sorted(ln for ln in kept if ln not in body) == sorted(extra), paper["id"]
        assert counts == paper["removed"], paper["id"]


def test_what_is_removed(papers):
    out = "\n".join(clean_paper(p["text"])[0] for p in papers)
    for gone in (
        "日内会誌",
        "― 12",
        "肝臓 20巻",  # running headers and footers
        "山田 太郎1)",
        "東都大学",
        "架空市立病院",
        "Department of",
        "E-mail",
        "別刷請求先",
        "Corresponding author",
        "受付",  # front matter
        "利益相反",
        "conflicts of interest",  # COI
        "謝辞",
        "深謝",  # acknowledgments
        "文献",
        "et al",
        "Gastroenterol",
        "2005; 353",  # references, with and without a heading
    ):
        assert gone not in out, gone


def test_real_case_reports_are_left_unchanged(reports):
    """No false positives on real report text: headings like 【症例】, dates, lab values, 整形外科."""
    for r in reports.values():
        for text in (r["text"], normalize_text(r["text"])):
            out, counts = clean_paper(text)
            assert out == text.strip("\n") and not any(counts.values()), r["id"]


def test_numbered_clinical_lists_are_not_references():
    text = "検査所見\n1) WBC 12,300/μL\n2) CRP 15.2 mg/dL\n3) 2019年3月の CT で肝 S2 に 10-15 mm の腫瘤"
    assert clean_paper(text)[0] == text


def test_references_end_at_the_next_heading():
    text = "考察\n本例は稀である．\n文献\n1) 山田太郎, 他: 日内会誌 2019; 108: 123-130.\n付録\n検査方法の詳細を示す．"
    out, counts = clean_paper(text)
    assert out == "考察\n本例は稀である．\n付録\n検査方法の詳細を示す．"
    assert counts["references"] == 2


def test_step_signals_and_options(papers):
    paper = papers[0]
    doc = Document(text=paper["text"], id=paper["id"], metadata={})
    step = PaperSectionCleaner()
    (out,) = list(step.run(iter([doc])))
    assert out.metadata["sections_removed_chars"] == len(paper["text"]) - len(out.text) > 0
    assert {k: out.metadata[f"sections_{k}_lines"] for k in KINDS} == paper["removed"]
    assert set(PaperSectionCleaner.signal_fields) == {"sections_removed_chars"} | {
        f"sections_{k}_lines" for k in KINDS
    }
    only_refs, counts = PaperSectionCleaner(remove=["references"]).clean(paper["text"])
    assert "謝辞" in only_refs and "文献" not in only_refs and counts["acknowledgments"] == 0
    with pytest.raises(ValueError, match="unknown kind"):
        PaperSectionCleaner(remove=["figures"])
    with pytest.raises(ValueError):
        PaperSectionCleaner(min_header_repeats=1)
