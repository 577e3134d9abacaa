"""The boilerplate_lines step: repeated header/footer lines go, content lines stay, in direct use
and in a real build (after dedup, reported like any other step)."""

import json

import pyarrow.parquet as pq
import pytest
from conftest import read_jsonl
from datatrove.data import Document

from jmedcorpus.dedup.boilerplate import BoilerplateLines
from jmedcorpus.pii.step import PersonalInfoRedactor
from jmedcorpus.pipelines.build import BuildOptions, build
from jmedcorpus.recipe import RecipeError, load_recipe, recipe_from_dict
from jmedcorpus.text.normalize import normalize_text

COI = "利益相反：著者らに開示すべき利益相反はない。"


def header(i: int) -> str:
    return f"日本内科学会雑誌 第{110 + i}巻 第{i % 12 + 1}号"  # volume and issue change, the header does not


@pytest.fixture(scope="module")
def reports(data_dir):
    return [r for r in read_jsonl(data_dir / "case_reports_ja.jsonl") if "-ner-" not in r["id"]]


def with_boilerplate(reports):
    return [f"{header(i)}\n{r['text']}\n{COI}" for i, r in enumerate(reports)]


def test_removes_repeated_header_and_footer_lines_only(reports):
    texts = with_boilerplate(reports)
    out = list(
        BoilerplateLines(min_documents=5).run(iter(Document(text=t, id=str(i)) for i, t in enumerate(texts)))
    )
    assert [d.text for d in out] == [r["text"] for r in reports]
    assert all(d.metadata["boilerplate_lines_removed"] == 2 for d in out)


def test_below_min_documents_nothing_changes(reports):
    texts = with_boilerplate(reports)[:4]
    out = list(
        BoilerplateLines(min_documents=5).run(iter(Document(text=t, id=str(i)) for i, t in enumerate(texts)))
    )
    assert [d.text for d in out] == texts


def test_common_sentence_in_the_middle_is_content(reports):
    """A line every report shares, but in the middle of the text, is not a header or footer."""
    texts = []
    for r in reports:
        lines = r["text"].split("\n")
        texts.append("\n".join(lines[:5] + ["既往歴：特記事項なし。"] + lines[5:]))
    out = list(
        BoilerplateLines(min_documents=5).run(iter(Document(text=t, id=str(i)) for i, t in enumerate(texts)))
    )
    assert [d.text for d in out] == texts
    anywhere = BoilerplateLines(min_documents=5, edge_lines=0)
    stripped = [d.text for d in anywhere.run(iter(Document(text=t, id="x") for t in texts))]
    assert stripped == [r["text"] for r in reports]  # with edge_lines=0 any line may go


def test_short_lines_and_documents_left_empty(reports):
    step = BoilerplateLines(min_documents=3)
    docs = [Document(text=f"a. 肺炎\n{COI}", id=str(i)) for i in range(3)]  # nothing but boilerplate
    assert list(step.run(iter(docs))) == []
    assert not step.line_keys("a. 肺炎")  # option lines are too short to ever be boilerplate


def test_recipe_puts_it_after_dedup():
    steps = [{"use": "boilerplate_lines"}, {"use": "exact_dedup"}]
    with pytest.raises(RecipeError, match="must come before boilerplate_lines"):
        recipe_from_dict({"name": "t", "steps": steps})


@pytest.mark.ray
def test_build_strips_lines_after_dedup_and_reports_the_step(ray_local, tmp_path, reports):
    texts = with_boilerplate(reports)
    records = [{"id": r["id"], "text": t} for r, t in zip(reports, texts)]
    records.append({"id": "zz-only-boilerplate", "text": f"{header(99)}\n{COI}"})
    # six copies of one report: without dedup first, its own lines would count six times
    records += [{"id": f"zz-copy-{k}", "text": texts[0]} for k in range(6)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    recipe = load_recipe()
    data = recipe.to_dict()
    data["steps"].append({"use": "boilerplate_lines", "min_documents": 5})
    recipe = recipe_from_dict(data)
    recipe.input.chunk_mb = 0.004
    m = build(
        BuildOptions(
            inputs=[str(src)], output=str(tmp_path / "out"), recipe=recipe, workers=2, progress=False
        )
    )
    kept = {r["id"]: r for r in pq.read_table(str(tmp_path / "out" / "data")).to_pylist()}
    redact = PersonalInfoRedactor().format  # the default recipe redacts exact dates in two reports
    assert {i: kept[i]["text"] for i in kept} == {r["id"]: redact(normalize_text(r["text"])) for r in reports}
    assert all(r["boilerplate_lines_removed"] == 2 for r in kept.values())
    assert all(r["chars"] == len(r["text"]) for r in kept.values())  # signals follow the edit
    step = next(s for s in m["steps"] if s["name"] == "boilerplate_lines")
    assert step["reasons"] == {"boilerplate_only": 1}
    assert (
        step["details"]["boilerplate_lines"] == 2 and step["details"]["lines_removed"] == 2 * len(reports) + 2
    )
    removed = pq.read_table(str(tmp_path / "out" / "removed" / "boilerplate_lines")).to_pylist()
    assert [r["id"] for r in removed] == ["zz-only-boilerplate"]
    c = m["counts"]
    assert c["records_in"] == c["kept"] + c["removed"] + c["quarantined"]
