"""The model checks and the EHR template through the whole ``synth`` path, with a scripted
engine (:mod:`scripted_engine`): every generated exam item passes the rules, and each passage
gets answers and a verdict chosen by its key, so every assertion is exact. Covered: the
majority rule and the judge's floor and unparseable verdicts end to end, near-duplicates
decided after the checks, resume from the cache (nothing re-asked), a judge on its own engine,
``--retry-errors`` for a failed check, engine call slots, the EHR template, one-line errors."""

from __future__ import annotations

import glob
import json
import os
import shutil
import unicodedata

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, read_jsonl
from scripted_engine import ScriptedEngine, grounded_exam_item, passage_of, scenario

from jmedcorpus import constants as C
from jmedcorpus.cli import main
from jmedcorpus.errors import UserError
from jmedcorpus.pipelines.synth import SynthOptions, synth
from jmedcorpus.synth.config import load_synth_recipe
from jmedcorpus.synth.engines.base import Completion

pytestmark = pytest.mark.ray
# passage scenario -> (the 3 answers, the judge's output, the reasons of the checks)
SCENARIOS = [
    (("a", "a", "a"), '{"score": 5, "answerable": 5, "comment": "良い"}', []),
    (("a", "b", "c"), '{"score": 4}', [C.SYNTH_ANSWER_MISMATCH]),
    (("a", "a", None), "よい問題です。", [C.SYNTH_JUDGE_UNPARSEABLE]),
    (("b", "b", "a"), '```json\n{"score": 2}\n```', [C.SYNTH_ANSWER_MISMATCH, C.SYNTH_JUDGE_BELOW_FLOOR]),
    (("a", "b", "a"), '{"総合点": "4点"}', []),
]


def exam_script(request) -> str:
    """Generations: a grounded item; checks: the passage's scenario."""
    if "#answer" in request.key:
        base, _, j = request.key.partition("#answer")
        letter = SCENARIOS[scenario(base, len(SCENARIOS))][0][int(j)]
        return f'{{"answer": "{letter}"}}' if letter else "わかりません"
    if request.key.endswith("#judge"):
        return SCENARIOS[scenario(request.key.removesuffix("#judge"), len(SCENARIOS))][1]
    return grounded_exam_item(passage_of(request)) or "作成できません"


@pytest.fixture(scope="module")
def documents(ray_local, tmp_path_factory):
    """The case reports as one Parquet shard (12 reports and 2 exact copies under other ids)."""
    folder = tmp_path_factory.mktemp("docs")
    rows = [
        {"id": r["id"], "text": r["text"], "source": r["source"]}
        for r in read_jsonl(DATA / "case_reports_ja.jsonl")
    ]
    pq.write_table(pa.Table.from_pylist(rows), folder / "docs.parquet")
    return folder


def recipe(**checks):
    r = load_synth_recipe()
    r.engine.model = "scripted-model"
    r.passages.n = None
    r.output.chunk_size = 8
    r.answer_check.enabled = checks.get("answer_check", True)
    r.judge.enabled = checks.get("judge", True)
    return r


def run(documents, out, engine, r=None, **kw):
    return synth(
        SynthOptions(
            [str(documents)], str(out), r or recipe(), workers=1, progress=False, engine=engine, **kw
        )
    )


def rows(out, folder):
    return pq.read_table(str(out / folder)).to_pylist() if glob.glob(str(out / folder / "*.parquet")) else []


@pytest.fixture(scope="module")
def checked(documents, tmp_path_factory):
    out = tmp_path_factory.mktemp("qa") / "qa"
    engine = ScriptedEngine(exam_script)
    return out, run(documents, out, engine), engine


def test_checks_decide_exactly_as_scripted(checked):
    out, m, engine = checked
    c = m["counts"]
    assert c["accepted"] + c["rejected"] == c["passages"] == m["selection"]["selected"]
    judged = [r for r in rows(out, "data") + rows(out, "rejected") if r["judge_rubric"]]
    assert len(judged) == m["model_checks"]["items_checked"] >= 10
    for r in judged:
        answers, _, reasons = SCENARIOS[scenario(r["id"].split("/")[0], len(SCENARIOS))]
        got = [x for x in r.get("reasons") or [] if x != C.SYNTH_DUPLICATE]
        assert got == reasons, r["id"]
        assert r["answer_check_answers"] == list(answers)
        assert r["answer_check_agreement"] == round(sum(a == "a" for a in answers) / 3, 4)
    accepted = rows(out, "data")
    assert accepted and all(r["judge_score"] in (4, 5) and r["judge_rubric"] == "judge_v1" for r in accepted)
    assert all(json.loads(r["judge"])["model"] == "scripted-model" for r in accepted)
    # every item has a score or a reason; the judge's raw output is kept on rejected rows only
    rejected = rows(out, "rejected")
    assert all(r["reasons"] for r in rejected) and "judge_raw" not in accepted[0]
    unparseable = [r for r in rejected if C.SYNTH_JUDGE_UNPARSEABLE in r["reasons"]]
    assert unparseable and all(
        r["judge_raw"] == "よい問題です。" and r["judge_score"] is None for r in unparseable
    )
    assert engine.max_active <= engine.concurrent_calls  # the main thread's checks waited for a slot


def test_manifest_counts_and_distributions(checked):
    _, m, _ = checked
    mc, t = m["model_checks"], m["throughput"]
    n = mc["items_checked"]
    assert t["check_requests_sent"] == 4 * n and t["requests_sent"] == m["counts"]["passages"]
    assert sum(mc["score_distribution"].values()) == n == sum(mc["agreement_histogram"].values())
    assert mc["judge"]["rubric"] == "judge_v1" and mc["answer_check"]["k"] == 3
    assert mc["judge"]["engine"]["model"] == "scripted-model" and t["checks_ms_per_item"] > 0
    assert set(m["counts"]["reasons_found"]) <= {v for k, v in vars(C).items() if k.startswith("SYNTH_")}


def test_near_duplicates_are_decided_after_the_checks(checked):
    """The corpus holds exact copies of two reports: a copy is a duplicate only of an item that
    was accepted in the end, not of one the checks rejected."""
    out, _, _ = checked
    accepted = {json.dumps(r["options"], ensure_ascii=False) for r in rows(out, "data")}
    duplicates = [r for r in rows(out, "rejected") if C.SYNTH_DUPLICATE in r["reasons"]]
    assert duplicates
    for r in duplicates:
        options = json.loads(r["raw"])["options"]
        assert json.dumps(options, ensure_ascii=False) in accepted, r["id"]


def test_a_resumed_run_asks_nothing_again(checked, documents, tmp_path):
    src, m1, _ = checked
    out = tmp_path / "qa"
    shutil.copytree(src, out)
    last = max(glob.glob(str(out / ".work" / "chunks" / "*.json")))
    number = os.path.basename(last)[len("chunk-") : -len(".json")]
    with open(last, encoding="utf-8") as f:
        checks_in_chunk = json.load(f)["checks"]["items"]
    for path in [last, out / "manifest.json", *glob.glob(str(out / "*" / f"*-{number}.parquet"))]:
        os.remove(path)
    engine = ScriptedEngine(exam_script)
    m2 = run(documents, out, engine)
    assert engine.received == []  # generations and checks all came from the cache
    assert m2["throughput"]["check_requests_from_cache"] == 4 * checks_in_chunk > 0
    assert (
        m2["counts"] == m1["counts"]
        and m2["model_checks"]["score_distribution"] == m1["model_checks"]["score_distribution"]
    )
    assert rows(out, "data") == rows(src, "data") and rows(out, "rejected") == rows(src, "rejected")


def test_a_judge_on_its_own_engine(documents, tmp_path):
    r = recipe(answer_check=False)
    r.judge.engine = {"model": "judge-model"}
    gen, judge = ScriptedEngine(exam_script), ScriptedEngine(exam_script, model="judge-model")
    m = run(documents, tmp_path / "qa", gen, r, judge_engine=judge)
    assert judge.received and all(k.endswith("#judge") for k in judge.received)
    assert not any("#" in k.split("#", 1)[1] for k in gen.received)  # passage keys only
    assert (
        m["model_checks"]["judge"]["engine"]["model"] == "judge-model"
        and "answer_check" not in m["model_checks"]
    )
    accepted = rows(tmp_path / "qa", "data")
    assert accepted and all(json.loads(x["judge"])["model"] == "judge-model" for x in accepted)
    assert all(x["answer_check_answers"] is None for x in accepted)


def test_a_failed_check_is_retried_on_request(documents, tmp_path):
    failed = []

    def flaky(request):
        if request.key.endswith("#judge") and not failed:
            failed.append(request.key)
            return Completion(request.key, None, error=C.SYNTH_ENGINE_ERROR, detail="HTTP 503", attempts=3)
        return exam_script(request)

    r = recipe(answer_check=False)
    m1 = run(documents, tmp_path / "qa", ScriptedEngine(flaky), r)
    assert m1["counts"]["engine_errors"] == 1 and m1["model_checks"]["items_with_failed_checks"] == 1
    (row,) = [x for x in rows(tmp_path / "qa", "rejected") if x["reason"] == C.SYNTH_ENGINE_ERROR]
    assert row["id"].split("/")[0] + "#judge" == failed[0] and row["detail"] == "judge: HTTP 503"
    again = ScriptedEngine(exam_script)
    m2 = run(documents, tmp_path / "qa", again, r, retry_errors=True)
    assert again.received == failed and m2["counts"]["engine_errors"] == 0


# --- the EHR template ---------------------------------------------------------------------
EHR_ANSWERS = {  # local name -> what the scripted model answers
    "AST": '{"code": "3Z103000002327101", "standard_name": "AST(GOT)"}',
    "PT": "標準名称: プロトロンビン時間(PT)\nコード: 2Z106000002220101",
    "ALT": '{"code": "3Z103000002327101", "standard_name": "ALT(GPT)"}',  # the code of AST
    "CRP": '{"code": "9Z999000002327101", "standard_name": "CRP"}',  # a code not in the master
}
EHR_REASONS = {"ALT": [C.SYNTH_MASTER_MISMATCH], "CRP": [C.SYNTH_NOT_IN_MASTER]}


def ehr_script(request) -> str:
    user = request.messages[-1]["content"]
    name = user.split("【ローカル検査名】", 1)[1].split("\n", 1)[0].strip()
    return EHR_ANSWERS.get(name, '{"code": "", "standard_name": ""}')


def ehr_recipe(**ehr):
    r = recipe(answer_check=False, judge=False)
    r.template = "ehr_lab_name_v1"
    r.ehr.master = str(DATA / "lab_master_jlac_like.csv")
    for k, v in ehr.items():
        setattr(r.ehr, k, v)
    return r


def test_ehr_items_from_the_names_in_the_passages(documents, tmp_path):
    m = run(documents, tmp_path / "ehr", ScriptedEngine(ehr_script), ehr_recipe())
    names = m["selection"]["local_names"]
    assert names["source"] == "passages" and names["local_names"] == m["counts"]["passages"] >= 15
    assert m["counts"]["accepted"] + m["counts"]["rejected"] == names["local_names"]
    accepted = {r["question"]: r for r in rows(tmp_path / "ehr", "data")}
    assert set(accepted) == {"AST", "PT"}
    ast = accepted["AST"]
    assert (ast["answer"], ast["answer_text"], ast["kind"]) == ("3Z103000002327101", "AST(GOT)", "ehr")
    assert ast["messages"][0]["content"].endswith("検査名: AST")
    assert ast["messages"][1]["content"] == "標準名称: AST(GOT)\nJLAC10コード: 3Z103000002327101"
    assert "AST" in unicodedata.normalize("NFKC", ast["passage"]) and ast["source_id"].startswith("medtxt-cr")
    for r in rows(tmp_path / "ehr", "rejected"):
        name = r["id"].split(":", 1)[1].rsplit("/", 1)[0]
        assert r["reasons"] == EHR_REASONS.get(name, [C.SYNTH_NOT_IN_MASTER]), name


def test_ehr_items_from_a_names_file(documents, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("AST\nＡＳＴ\nCRP\n", encoding="utf-8")
    seen = []

    def script(request):
        seen.append(request.messages[-1]["content"])
        return ehr_script(request)

    m = run(documents, tmp_path / "ehr", ScriptedEngine(script), ehr_recipe(local_names=str(names)))
    assert m["selection"]["local_names"] == {"source": "file", "local_names": 2}
    assert (m["counts"]["accepted"], m["counts"]["rejected_by_reason"]) == (1, {C.SYNTH_NOT_IN_MASTER: 1})
    assert all("（本文なし）" in s and "3Z103000002327101,AST(GOT)" in s for s in seen)
    (row,) = rows(tmp_path / "ehr", "data")
    assert (row["source_id"], row["passage"]) == ("local_names", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--template", "free_qa_v1", "--answer-check"], "answer_check applies to exam templates"),
        (["--template", "ehr_lab_name_v1", "--master", "m.csv", "--judge"], "judge applies to exam and free"),
        (["--template", "ehr_lab_name_v1"], "needs a standard-name master: --master CSV"),
        (["--master", "m.csv"], "are for the ehr_lab_name_v1 template"),
        (["--judge", "--judge-min-score", "6"], "judge.min_score must be in 1-5"),
        (["--answer-check", "--answer-k", "0"], "answer_check.k must be in 1-16"),
        (["--template", "ehr_lab_name_v1", "--master", "missing.csv"], "no such file"),
    ],
)
def test_wrong_settings_are_one_line_errors(documents, tmp_path, capsys, args, message):
    base = ["synth", "--input", str(documents), "--output", str(tmp_path / "qa"), "--model", "m"]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0


def test_recipe_sections_are_checked(tmp_path):
    from jmedcorpus.synth.config import synth_recipe_from_dict

    with pytest.raises(UserError, match=r"answer_check.ke: unknown key \(did you mean 'k'\?\)"):
        synth_recipe_from_dict({"template": "exam_mcq_v1", "answer_check": {"ke": 3}})
    r = synth_recipe_from_dict(
        {"template": "exam_mcq_v1", "judge": {"enabled": True, "engine": {"modle": "x"}}}
    )
    r.engine.model = "m"
    with pytest.raises(UserError, match="judge.engine.modle: unknown key"):
        r.check()
    r = synth_recipe_from_dict({"template": "exam_mcq_v1", "judge": {"enabled": True, "rubric": "judge_v9"}})
    r.engine.model = "m"
    with pytest.raises(UserError, match="judge.rubric 'judge_v9' is unknown; shipped rubrics: judge_v1"):
        r.check()
    r = synth_recipe_from_dict({"template": "exam_mcq_v1", "answer_check": {"temperature": 9}})
    r.engine.model = "m"
    with pytest.raises(UserError, match="answer_check: sampling temperature must be in"):
        r.check()


def test_the_judge_engine_is_the_generation_engine_unless_told_otherwise():
    from jmedcorpus.cli import _build_parser
    from jmedcorpus.pipelines.synth_cli import _apply_check_options

    r = load_synth_recipe()
    r.engine.name, r.engine.model = "openai", "qwen"
    r.engine.openai = {"base_url": "http://gen/v1", "concurrency": 16}
    for same in ({}, {"name": "openai"}, {"model": "qwen"}):
        r.judge.engine = same
        assert r.judge.engine_settings(r.engine) is None  # never a second copy of the same engine
    r.judge.engine = {"model": "big"}  # another model on the same server
    s = r.judge.engine_settings(r.engine)
    assert (s.name, s.model, s.options) == ("openai", "big", {"base_url": "http://gen/v1", "concurrency": 16})
    args = _build_parser().parse_args(
        [
            "synth",
            "-i",
            "x",
            "-o",
            "y",
            "--judge",
            "--judge-model",
            "big",
            "--judge-base-url",
            "http://judge/v1",
        ]
    )
    r = load_synth_recipe()
    r.engine.model = "qwen"  # generated with vllm
    _apply_check_options(r, args)
    s = r.judge.engine_settings(r.engine)
    assert (s.name, s.model, s.options["base_url"], r.judge.enabled) == (
        "openai",
        "big",
        "http://judge/v1",
        True,
    )
