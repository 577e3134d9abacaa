"""``jmedcorpus inspect`` and ``jmedcorpus stats`` on a ``synth`` output with model checks: items
with their judge verdicts and answer-check answers, and the score and agreement distributions
(equal to the manifest's). The output is made with the scripted engine of tests/synth."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, read_jsonl

from jmedcorpus.cli import main
from jmedcorpus.constants import SYNTH_JUDGE_BELOW_FLOOR
from jmedcorpus.pipelines.synth import SynthOptions, synth
from jmedcorpus.synth.config import load_synth_recipe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "synth"))
from scripted_engine import ScriptedEngine, grounded_exam_item, passage_of, scenario

pytestmark = pytest.mark.ray


def script(request) -> str:
    base = request.key.split("#answer")[0].removesuffix("#judge")
    s = scenario(base, 3)
    if "#answer" in request.key:
        return '{"answer": "a"}' if s != 1 else '{"answer": "c"}'
    if request.key.endswith("#judge"):
        return [
            '{"score": 5, "answerable": 5, "comment": "本文から解答できる"}',
            '{"score": 4}',
            '{"score": 1}',
        ][s]
    return grounded_exam_item(passage_of(request)) or "作成できません"


@pytest.fixture(scope="module")
def qa(ray_local, tmp_path_factory) -> Path:
    docs = tmp_path_factory.mktemp("docs")
    rows = [
        {"id": r["id"], "text": r["text"], "source": r["source"]}
        for r in read_jsonl(DATA / "case_reports_ja.jsonl")
    ]
    pq.write_table(pa.Table.from_pylist(rows), docs / "docs.parquet")
    r = load_synth_recipe()
    r.engine.model, r.passages.n, r.output.chunk_size = "scripted-model", None, 10
    r.answer_check.enabled = r.judge.enabled = True
    out = tmp_path_factory.mktemp("qa") / "qa"
    synth(SynthOptions([str(docs)], str(out), r, workers=1, progress=False, engine=ScriptedEngine(script)))
    return out


def inspect(qa, capsys, *args) -> tuple[int, str]:
    code = main(["inspect", str(qa), "--no-pager", *args])
    return code, capsys.readouterr().out


def test_inspect_shows_an_item_with_its_verdicts(qa, capsys):
    code, out = inspect(qa, capsys, "--kept", "--limit", "1")
    assert code == 0 and "accepted" in out and "◀ key" in out
    assert re.search(r"answer check: a a a  key a  agreement 1\.0 ✓", out)
    assert re.search(r"judge \(judge_v1, model scripted-model\): score [45] ✓", out)


def test_inspect_rejected_items_as_json(qa, capsys):
    code, out = inspect(qa, capsys, "--removed", SYNTH_JUDGE_BELOW_FLOOR, "--json", "--raw")
    items = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and items
    for item in items:
        assert SYNTH_JUDGE_BELOW_FLOOR in item["reasons"] and item["status"] == "rejected"
        assert item["judge"] | {"raw": None} == {
            "score": 1,
            "rubric": "judge_v1",
            "model": "scripted-model",
            "criteria": {},
            "comment": None,
            "min_score": 3,
            "raw": None,
        }
        assert item["options"] and item["answer"] == "a"  # the item, parsed again from its raw output
        assert item["answer_check"]["answers"] == ["a", "a", "a"] and item["answer_check"]["key"] == "a"
    code, out = inspect(qa, capsys, "--id", items[0]["id"], "--raw")
    assert (
        code == 0
        and out.count("── ") == 1
        and 'judge raw: {"score": 1}' in out
        and "judge score 1 < 3" in out
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--removed", "synth_nope"], "no item was rejected for 'synth_nope'; reasons in this output:"),
        (["--step", "language"], "--step is for build outputs"),
        (["--id", "nope#0/exam_mcq_v1"], "no item with id"),
    ],
)
def test_inspect_errors_are_one_line(qa, capsys, args, message):
    assert main(["inspect", str(qa), "--no-pager", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0


def test_stats_match_the_manifest_and_hold_no_text(qa, capsys):
    assert main(["stats", str(qa), "--json"]) == 0
    printed = capsys.readouterr().out
    stats = json.loads(printed)
    with open(qa / "manifest.json", encoding="utf-8") as f:
        m = json.load(f)
    checks = m["model_checks"]
    assert stats["judge_scores"]["all"] == checks["score_distribution"]
    assert stats["agreement"]["all"] == checks["agreement_histogram"]
    assert stats["agreement"]["mean_all"] == checks["mean_agreement"]
    assert {k: stats["counts"][k] for k in ("accepted", "rejected")} == {
        k: m["counts"][k] for k in ("accepted", "rejected")
    }
    assert stats["counts"]["rejected_by_reason"] == m["counts"]["rejected_by_reason"]
    assert stats["judge_scores"]["accepted"]["1"] == 0 and stats["judge_scores"]["mean_accepted"] >= 4
    assert not re.search("[\u3040-\u30ff\u4e00-\u9fff]", printed)  # ids, counts and reasons only
    assert main(["stats", str(qa)]) == 0
    summary = capsys.readouterr().out
    assert "judge scores (all judged): 1: " in summary and "answer-check agreement" in summary
    assert main(["stats", str(qa), "--html", str(qa / "r.html")]) == 2
    assert "--html and --save are for build outputs" in capsys.readouterr().err
