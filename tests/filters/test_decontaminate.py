"""Benchmark decontamination on real IgakuQA questions inserted into real case reports."""

import json
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, read_jsonl
from datatrove.data import Document

import jmedcorpus.filters.decontaminate as D  # registers "decontaminate"
from jmedcorpus.filters.benchmarks import load_benchmark
from jmedcorpus.recipe import RecipeError, recipe_from_dict

BENCH = str(DATA / "igakuqa_ja.jsonl")
QUESTIONS = read_jsonl(DATA / "igakuqa_ja.jsonl")
REPORTS = [r["text"] for r in read_jsonl(DATA / "case_reports_ja.jsonl")]
# Hand-written questions in the exam's template, with different content (not benchmark items).
CONTROLS = [
    # shares "血症をきたす疾患はどれか。" with 112A1
    (
        "低カリウム血症をきたす疾患はどれか。\na. Bartter症候群\nb. 原発性アルドステロン症\nc. Addison病\n"
        "d. 尿細管性アシドーシス\ne. 甲状腺機能亢進症"
    ),
    # shares "について正しいのはどれか。" and "睡眠" with 112A6
    (
        "睡眠時無呼吸症候群について正しいのはどれか。\na. 女性に多い。\nb. 肥満は危険因子ではない。\n"
        "c. 日中の眠気は少ない。\nd. 高血圧の原因となる。\ne. 治療に睡眠薬を用いる。"
    ),
    # shares "について正しいのはどれか。" with 112A4/112A5
    (
        "結核について正しいのはどれか。\na. 届出は不要である。\nb. 飛沫感染する。\nc. 初感染は高齢者に多い。\n"
        "d. 喀痰塗抹陽性は入院勧告の対象となる。\ne. BCGは成人に有効である。"
    ),
]


def embed(question: str, report: int = 0, at: int = 2) -> str:
    lines = REPORTS[report].split("\n")
    return "\n".join(lines[:at] + [question] + lines[at:])


def run(step, text):
    doc = Document(text=text, id="t")
    return step.filter(doc), doc


@pytest.fixture(scope="module")
def step():
    return D.BenchmarkDecontaminator(benchmarks=[BENCH])


def to_full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


@pytest.mark.parametrize("i", range(len(QUESTIONS)))
def test_inserted_question_removed_with_item(step, i):
    q = QUESTIONS[i]
    result, doc = run(step, embed(q["text"], report=i % len(REPORTS)))
    assert result == (False, D.DECONTAM_BENCHMARK)
    assert doc.metadata[D.META_DECONTAM_ITEM] == f"igakuqa_ja.jsonl:{q['id']}"
    assert doc.metadata[D.META_DECONTAM_FRACTION] == 1.0


@pytest.mark.parametrize(
    "variant",
    [
        to_full_width,
        lambda t: t.replace("\n", ""),  # newlines removed
        lambda t: " ".join(t).replace("\n", " \n"),  # a space between every character
        lambda t: t.replace("。", "。\n\n").replace("病", "病 "),
    ],
    ids=["full_width", "no_newlines", "spaced", "reflowed"],
)
def test_width_and_whitespace_changes_do_not_evade(step, variant):
    for q in QUESTIONS:
        result, doc = run(step, embed(variant(q["text"])))
        assert result == (False, D.DECONTAM_BENCHMARK), q["id"]
        assert doc.metadata[D.META_DECONTAM_ITEM].endswith(q["id"])


def test_reordered_options_removed(step):
    q = QUESTIONS[5]["text"].split("\n")  # 112A6: long options
    reordered = "\n".join([q[0], *reversed(q[1:])])
    assert run(step, embed(reordered))[0] == (False, D.DECONTAM_BENCHMARK)


def test_similar_but_different_questions_kept(step):
    for i, control in enumerate(CONTROLS):
        result, doc = run(step, embed(control, report=i))
        assert result is True, control[:10]
        assert doc.metadata[D.META_DECONTAM_ITEM] is None
        assert doc.metadata[D.META_DECONTAM_FRACTION] < 0.7


def test_reports_alone_kept(step):
    for text in REPORTS:
        assert run(step, text)[0] is True


def test_passage_mode_removes_only_the_question():
    step = D.BenchmarkDecontaminator(benchmarks=[BENCH], mode="passage")
    q = QUESTIONS[0]["text"]
    original = REPORTS[1]
    result, doc = run(step, embed(q, report=1, at=1))
    assert result is True
    assert doc.text == original
    assert doc.metadata[D.META_DECONTAM_REMOVED_CHARS] == len(q) + 1
    assert doc.metadata[D.META_DECONTAM_ITEM] == "igakuqa_ja.jsonl:igakuqa-ja-112A1"
    # a document that is nothing but the question is dropped
    assert run(step, q)[0] == (False, D.DECONTAM_BENCHMARK)
    # untouched documents report 0 removed characters
    result, doc = run(step, original)
    assert result is True and doc.metadata[D.META_DECONTAM_REMOVED_CHARS] == 0


def test_formats_and_layouts(tmp_path):
    rows = [
        {"qid": r["id"], "question": r["text"].split("\n")[0], "choices": r["text"].split("\n")[1:]}
        for r in QUESTIONS
    ]
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    parquet = tmp_path / "b.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    csv_path = tmp_path / "b.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as f:
        f.write("id,question,A,B,C,D,E\n")
        for r in rows:
            opts = [c.split(". ", 1)[1] for c in r["choices"]]
            f.write(",".join([r["qid"], r["question"], *opts]) + "\n")
    for path in (jsonl, parquet, csv_path):
        items = load_benchmark(str(path))
        assert [i.id for i in items] == [f"{path.name}:{r['id']}" for r in QUESTIONS]
        assert items[0].stem == "高アンモニア血症をきたす疾患はどれか。"
        assert items[0].options[0] == "Gaucher病"
        step = D.BenchmarkDecontaminator(benchmarks=[str(path)])
        result, doc = run(step, embed(QUESTIONS[3]["text"]))
        assert result == (False, D.DECONTAM_BENCHMARK), path.name
        assert doc.metadata[D.META_DECONTAM_ITEM] == f"{path.name}:{QUESTIONS[3]['id']}"


def test_unusable_file_is_one_line_error_without_text(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "x", "text": "高アンモニア血症をきたす疾患はどれか。"}\n{"id": "y", "body": "秘密の本文"}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as e:
        D.BenchmarkDecontaminator(benchmarks=[str(bad)])
    msg = str(e.value)
    assert f"{bad}:2:" in msg and "\n" not in msg and "秘密" not in msg and "text_field" in msg
    with pytest.raises(ValueError, match="no such benchmark file"):
        D.BenchmarkDecontaminator(benchmarks=[str(tmp_path / "missing.jsonl")])
    with pytest.raises(ValueError, match="unknown benchmark format"):
        (tmp_path / "b.txt").write_text("x", encoding="utf-8")
        D.BenchmarkDecontaminator(benchmarks=[str(tmp_path / "b.txt")])
    # through a recipe: one line naming the step
    with pytest.raises(RecipeError, match=r"steps\[0\] \(decontaminate\).*bad.jsonl:2"):
        recipe_from_dict({"name": "t", "steps": [{"use": "decontaminate", "benchmarks": [str(bad)]}]})


@pytest.mark.parametrize(
    "kw", [{"n": 2}, {"min_item_fraction": 0}, {"min_item_fraction": 1.5}, {"mode": "line"}, {"unit": "word"}]
)
def test_bad_parameters(kw):
    with pytest.raises(ValueError):
        D.BenchmarkDecontaminator(benchmarks=[BENCH], **kw)


def test_step_pickles_without_index(step):
    data = pickle.dumps(step)
    assert len(data) < 2000  # the index (~50 KB here, MBs for a real benchmark) is not in it
    clone = pickle.loads(data)
    assert clone._index is None
    assert run(clone, embed(QUESTIONS[2]["text"]))[0] == (False, D.DECONTAM_BENCHMARK)
    # the index is built once per process and shared by every step object
    assert clone.index is step.index


def test_mecab_unit_matches_verbatim():
    step = D.BenchmarkDecontaminator(benchmarks=[BENCH], unit="mecab", n=8)
    assert run(step, embed(QUESTIONS[4]["text"]))[0] == (False, D.DECONTAM_BENCHMARK)
    assert run(step, embed(CONTROLS[0]))[0] is True


@pytest.mark.ray
def test_build_with_decontamination(ray_local, tmp_path):
    from jmedcorpus.pipelines.build import BuildOptions, build

    src = tmp_path / "in"
    src.mkdir()
    docs = [{"id": f"r{i}", "text": t} for i, t in enumerate(REPORTS[:4])]
    docs.append({"id": "leak", "text": embed(QUESTIONS[1]["text"], report=5)})
    docs.append({"id": "control", "text": embed(CONTROLS[0], report=6)})
    (src / "docs.jsonl").write_text(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n", encoding="utf-8"
    )
    recipe = recipe_from_dict(
        {
            "name": "decontam",
            "steps": [{"use": "normalize"}, {"use": "decontaminate", "benchmarks": [BENCH]}],
        }
    )
    m = build(
        BuildOptions(
            inputs=[str(src)], output=str(tmp_path / "out"), recipe=recipe, workers=2, progress=False
        )
    )
    steps = {s["name"]: s for s in m["steps"]}
    assert steps["decontaminate"]["reasons"] == {D.DECONTAM_BENCHMARK: 1}
    removed = pq.read_table(str(tmp_path / "out" / "removed")).to_pylist()
    assert [(r["id"], r["reason"]) for r in removed] == [("leak", D.DECONTAM_BENCHMARK)]
    kept = {r["id"] for r in pq.read_table(str(tmp_path / "out" / "data")).to_pylist()}
    assert kept == {"r0", "r1", "r2", "r3", "control"}
