"""The whole ``synth`` path with the transformers engine on a tiny real model built here.

The model memorizes three (prompt, output) pairs: a valid exam item for one passage, a re-worded
copy of it for the next passage (a near-duplicate), and an item copying a licensing-exam
question for a third (contaminated). Every other passage gets whatever the weights produce:
the tests assert only properties of those (each accounted for once, every rejection with a
known reason), never what the weights happen to produce with this week's torch/transformers.
Counts must add up, a killed run must resume without re-sending requests or writing a passage
twice.
"""

from __future__ import annotations

import glob
import json
import os
import shutil

import pyarrow.parquet as pq
import pytest
from conftest import read_jsonl
from tiny_chat_model import build_tiny_chat_model

from jmedcorpus import constants
from jmedcorpus.cli import main
from jmedcorpus.constants import (
    SYNTH_CONTAMINATED,
    SYNTH_DUPLICATE,
    SYNTH_ENGINE_ERROR,
    SYNTH_JUDGE_UNPARSEABLE,
    SYNTH_MAX_TOKENS,
)
from jmedcorpus.errors import UserError
from jmedcorpus.pipelines.build import BuildOptions, build
from jmedcorpus.pipelines.synth import SynthOptions, synth
from jmedcorpus.recipe import load_recipe
from jmedcorpus.synth.config import load_synth_recipe, override, synth_recipe_from_dict
from jmedcorpus.synth.passages import passages_from_shards
from jmedcorpus.synth.prompts import load_template

pytestmark = pytest.mark.ray
MEMORIZED = {  # passage key -> fixture output id
    "medtxt-cr-0002#0": "exam-json-valid",
    "medtxt-cr-0002#1": "exam-near-duplicate",
    "medtxt-cr-0009#0": "exam-contaminated",
}


@pytest.fixture(scope="module")
def corpus(ray_local, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("built")
    build(
        BuildOptions(
            inputs=[str(data_dir / "case_reports_ja.jsonl")],
            output=str(out),
            recipe=load_recipe(),
            workers=2,
            progress=False,
        )
    )
    return out


@pytest.fixture(scope="module")
def passages(corpus):
    return {p.key: p for p in passages_from_shards(sorted(glob.glob(str(corpus / "data" / "*.parquet"))))}


@pytest.fixture(scope="module")
def model(passages, data_dir, tmp_path_factory):
    outputs = {r["id"]: r["raw"] for r in read_jsonl(data_dir / "synth_outputs.jsonl")}
    template = load_template("exam_mcq_v1")
    pairs = [(template.messages(passages[key].text), outputs[oid]) for key, oid in MEMORIZED.items()]
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny") / "model", memorize=pairs, steps=600)


def recipe(model, **changes):
    r = load_synth_recipe()
    r.engine.name, r.engine.model = "transformers", str(model)
    r.engine.transformers = {"batch_size": 8}
    r.sampling = type(r.sampling)(temperature=0.0, max_tokens=200, seed=0)
    r.passages.n = None
    r.output.chunk_size = changes.pop("chunk_size", 8)
    return r


def run(corpus, out, model, data_dir, **kw):
    return synth(
        SynthOptions(
            inputs=[str(corpus)],
            output=str(out),
            recipe=recipe(model),
            decontaminate_against=[str(data_dir / "igakuqa_ja.jsonl")],
            workers=2,
            progress=False,
            **kw,
        )
    )


def rows(out, folder):
    return pq.read_table(str(out / folder)).to_pylist()


def accepted_by_id(out) -> dict:
    return {r["id"]: r for r in rows(out, "data")}


MEMORIZED_ITEM = "medtxt-cr-0002#0/exam_mcq_v1"
KNOWN_REASONS = {v for k, v in vars(constants).items() if k.startswith("SYNTH_") and isinstance(v, str)}


@pytest.fixture(scope="module")
def first(corpus, model, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("qa") / "qa"
    return out, run(corpus, out, model, data_dir)


def test_every_passage_is_accepted_or_rejected_with_reasons(first, passages):
    out, m = first
    c = m["counts"]
    assert c["passages"] == len(passages) == m["selection"]["selected"] == 25
    assert c["accepted"] + c["rejected"] == c["passages"]
    assert sum(c["rejected_by_reason"].values()) == c["rejected"]
    accepted, rejected = rows(out, "data"), rows(out, "rejected")
    assert len(accepted) == c["accepted"] and len(rejected) == c["rejected"]
    ids = [r["id"] for r in accepted + rejected]
    assert len(set(ids)) == len(ids) == 25  # every passage once
    assert all(r["reasons"] and r["reason"] == r["reasons"][0] for r in rejected)
    assert sum(s["rows"] for s in m["shards"]) == c["accepted"]
    assert m["throughput"]["requests_sent"] == 25 and m["throughput"]["generated_tokens"] > 0


def test_the_memorized_item_is_accepted_in_training_format(first, passages):
    out, _ = first
    item = accepted_by_id(out)[MEMORIZED_ITEM]
    p = passages["medtxt-cr-0002#0"]
    assert item["id"] == "medtxt-cr-0002#0/exam_mcq_v1" and item["source_id"] == "medtxt-cr-0002"
    assert item["source"] == p.signals["source"] and item["source"]
    assert (item["passage_start"], item["passage_end"], item["passage"]) == (p.start, p.end, p.text)
    assert item["answer"] == "a" and item["answer_text"] == item["options"][0] and len(item["options"]) == 5
    user, assistant = item["messages"]
    assert user["role"] == "user" and user["content"].startswith(item["question"])
    assert "\na. ウルソデオキシコール酸" in user["content"]
    assert assistant == {"role": "assistant", "content": f"正解: a\n解説: {item['explanation']}"}
    assert item["model"].endswith("model") and item["engine"] == "transformers"
    assert item["prompt_version"] == "exam_mcq_v1" and json.loads(item["sampling"])["temperature"] == 0.0
    assert item["finish_reason"] == "stop" and item["completion_tokens"] > 0


def test_rejections_name_the_reason(first):
    out, m = first
    by_id = {r["id"].split("/")[0]: r for r in rows(out, "rejected")}
    assert SYNTH_DUPLICATE in by_id["medtxt-cr-0002#1"]["reasons"]
    assert SYNTH_CONTAMINATED in by_id["medtxt-cr-0009#0"]["reasons"]
    # The other passages get what the weights produce: whatever it is, a rejection names a known
    # reason, keeps the raw output and was one attempt.
    assert all(set(r["reasons"]) <= KNOWN_REASONS for r in by_id.values())
    assert all(r["raw"] is not None and r["attempts"] == 1 for r in by_id.values())
    assert set(m["counts"]["rejected_by_reason"]) <= KNOWN_REASONS


def test_output_reads_with_datasets(first):
    datasets = pytest.importorskip("datasets")
    out, m = first
    ds = datasets.load_dataset("parquet", data_dir=str(out / "data"), split="train")
    assert ds.num_rows == m["counts"]["accepted"] >= 1
    assert all(row["messages"][1]["role"] == "assistant" for row in ds)


def test_a_killed_run_resumes_without_resending(first, corpus, model, data_dir, tmp_path):
    src, m1 = first
    out = tmp_path / "qa"
    shutil.copytree(src, out)
    # A kill after chunk 1's answers were cached but before it was written, and mid-line in the cache.
    os.remove(out / ".work" / "chunks" / "chunk-00001.json")
    os.remove(out / "rejected" / "part-00001.parquet")
    (cache,) = glob.glob(str(out / ".cache" / "*.jsonl"))
    with open(cache, "a", encoding="utf-8") as f:
        f.write('{"key": "abc", "text": "途中')
    os.remove(out / "manifest.json")
    m2 = run(corpus, out, model, data_dir)
    assert m2["throughput"]["requests_sent"] == 0
    assert m2["throughput"]["requests_from_cache"] == 8  # chunk 1 only: the others were not redone
    assert m2["counts"] == m1["counts"]
    assert rows(out, "data") == rows(src, "data") and rows(out, "rejected") == rows(src, "rejected")
    m3 = run(corpus, out, model, data_dir)  # nothing left to do
    assert m3["throughput"]["requests_sent"] == m3["throughput"]["requests_from_cache"] == 0


def test_other_settings_on_the_same_output_are_refused(first, corpus, model, tmp_path):
    out, _ = first
    with pytest.raises(UserError, match=r"other settings \(changed: decontaminate_against\)"):
        synth(SynthOptions([str(corpus)], str(out), recipe(model), workers=2, progress=False))


def test_engine_errors_are_rejections_and_retried_on_request(corpus, model, tmp_path):
    """A request the engine fails is a rejection; ``--retry-errors`` redoes only those chunks."""
    from jmedcorpus.synth.engines import make_engine
    from jmedcorpus.synth.engines.base import Completion

    class FailsOnePassage:  # the real engine, with one request failing the first time
        def __init__(self, inner):
            self.inner, self.name, self.model, self.failed = inner, inner.name, inner.model, False

        def generate(self, requests):
            for c in self.inner.generate(requests):
                if not self.failed:
                    self.failed = True
                    c = Completion(c.key, None, error=SYNTH_ENGINE_ERROR, detail="HTTP 503", attempts=5)
                yield c

        def describe(self):
            return self.inner.describe()

    r = recipe(model)
    r.passages.n = 6
    engine = FailsOnePassage(make_engine("transformers", str(model), {}))
    opts = SynthOptions([str(corpus)], str(tmp_path / "qa"), r, workers=2, progress=False, engine=engine)
    m1 = synth(opts)
    assert m1["counts"]["engine_errors"] == 1 and m1["counts"]["rejected_by_reason"][SYNTH_ENGINE_ERROR] == 1
    failed = [x for x in rows(tmp_path / "qa", "rejected") if x["reason"] == SYNTH_ENGINE_ERROR]
    assert [(x["detail"], x["attempts"], x["raw"]) for x in failed] == [("HTTP 503", 5, None)]
    opts.retry_errors = True
    m2 = synth(opts)
    assert m2["counts"]["engine_errors"] == 0
    assert m2["throughput"]["requests_sent"] == 1  # the rest of the chunk came from the cache
    assert m2["counts"]["passages"] == m1["counts"]["passages"] == 6


def test_cli_runs_synth_and_reports_one_line_errors(corpus, model, tmp_path, capsys):
    args = ["synth", "--input", str(corpus), "--output", str(tmp_path / "qa"), "--engine", "transformers"]
    args += ["--model", str(model), "--temperature", "0", "-n", "3", "--no-progress"]
    # --min-tokens 5 forbids end-of-sequence before token 5, so every output is cut at 5 whatever
    # the weights are: the test guarantees the cut instead of hoping for long outputs.
    assert main([*args, "--max-tokens", "5", "--min-tokens", "5", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["counts"]["passages"] == 3
    assert printed["counts"]["rejected_by_reason"] == {SYNTH_MAX_TOKENS: 3}
    cut = rows(tmp_path / "qa", "rejected")
    assert all(r["finish_reason"] == "length" and r["completion_tokens"] == 5 for r in cut)
    assert all(json.loads(r["sampling"])["min_tokens"] == 5 for r in cut)
    assert main([*args, "--max-tokens", "4", "--min-tokens", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "min_tokens must be in [0, max_tokens=4]" in err
    assert main([*args, "--template", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown" in err and "exam_mcq_v1" in err
    bad = ["synth", "--input", str(tmp_path / "missing"), "--output", str(tmp_path / "qa2"), "--model", "m"]
    assert main(bad) == 2 and "no such file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"template": "exam_mcq_v1", "sampling": {"temprature": 1}}, "did you mean 'temperature'"),
        ({"template": "exam_mcq_v1", "sampling": {"temperature": 9}}, "temperature must be in"),
        ({"template": "exam_mcq_v1", "passages": {"n": "all"}}, "passages.n: expected an integer"),
        ({"template": "exam_mcq_v1", "engine": {"vllm": [1]}}, "engine.vllm: expected"),
    ],
)
def test_recipe_errors_are_one_line(data, message):
    with pytest.raises(UserError, match=message):
        synth_recipe_from_dict(data, source="r.yaml")


def test_recipe_values_are_checked_after_overrides():
    r = load_synth_recipe()
    with pytest.raises(UserError, match="no model"):
        r.check()
    r.engine.model, r.engine.name = "m", "llama"
    with pytest.raises(UserError, match="engine.name 'llama' is unknown"):
        r.check()


def test_openai_engine_through_a_loopback_server(first, corpus, model, data_dir, tmp_path, monkeypatch):
    """The same model served over HTTP gives the same data; a passage the server always fails
    is rejected with ``synth_engine_error`` and the run goes on."""
    from loopback_openai_server import LoopbackOpenAIServer

    from jmedcorpus.synth.engines.transformers_engine import TransformersEngine

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    src, m1 = first
    failing = next(r for r in rows(src, "rejected") if r["id"].startswith("medtxt-cr-0005#0"))
    documents = pq.read_table(str(corpus / "data")).to_pylist()
    doc = next(d for d in documents if d["id"] == "medtxt-cr-0005")
    marker = doc["text"][failing["passage_start"] : failing["passage_start"] + 30]
    served = TransformersEngine(str(model), device="cpu", batch_size=1)
    with LoopbackOpenAIServer(served, model_name="tiny", faults={marker: "error_always"}) as server:
        r = recipe(model)
        r.engine.name, r.engine.model = "openai", "tiny"
        r.engine.openai = {"base_url": server.base_url, "concurrency": 4, "max_retries": 1, "backoff_s": 0.01}
        opts = SynthOptions(
            [str(corpus)],
            str(tmp_path / "qa"),
            r,
            decontaminate_against=[str(data_dir / "igakuqa_ja.jsonl")],
            workers=2,
            progress=False,
        )
        m = synth(opts)
    assert m["engine"]["engine"] == "openai" and m["counts"]["engine_errors"] == 1
    assert m["throughput"]["http_or_engine_attempts"] == 25 + 1  # one retry of the failing request
    (failed,) = [x for x in rows(tmp_path / "qa", "rejected") if x["reason"] == SYNTH_ENGINE_ERROR]
    assert failed["id"] == failing["id"] and failed["detail"] == "HTTP 500" and failed["attempts"] == 2
    # The memorized item is what the test guarantees; other passages may differ between a batch of
    # 8 and batches of 1 where near-random weights give near-tied logits.
    item, expected = accepted_by_id(tmp_path / "qa")[MEMORIZED_ITEM], accepted_by_id(src)[MEMORIZED_ITEM]
    assert {k: item[k] for k in ("question", "options", "answer", "explanation", "messages")} == {
        k: expected[k] for k in ("question", "options", "answer", "explanation", "messages")
    }
    assert m["counts"]["accepted"] + m["counts"]["rejected"] == m1["counts"]["passages"]


# --- the model checks and the EHR template on the tiny model: guaranteed properties only ------
def test_model_checks_on_the_tiny_model(first, corpus, model, data_dir, tmp_path):
    """Answer check and judge asked of the real model. What it answers is not guaranteed: the
    test asserts that every item passing the rules was checked, counts add up, every item has
    a score or a reason, and a resumed run asks nothing again."""
    src, _ = first
    out = tmp_path / "qa"
    os.makedirs(out)
    shutil.copytree(src / ".cache", out / ".cache")  # the generations: from the first run's cache
    shutil.copy(src / ".jmedcorpus", out)  # the marker that lets synth write into a non-empty folder
    r = recipe(model)
    r.answer_check = override(r.answer_check, enabled=True, k=2, max_tokens=8)
    r.judge = override(r.judge, enabled=True, max_tokens=24)

    def go():
        opts = SynthOptions(
            [str(corpus)], str(out), r, [str(data_dir / "igakuqa_ja.jsonl")], workers=2, progress=False
        )
        return synth(opts)

    m = go()
    t, mc, c = m["throughput"], m["model_checks"], m["counts"]
    assert t["requests_sent"] == 0 and t["requests_from_cache"] == c["passages"] == 25
    assert c["accepted"] + c["rejected"] == 25 and sum(c["rejected_by_reason"].values()) == c["rejected"]
    assert mc["items_checked"] >= 1 and t["check_requests_sent"] == 3 * mc["items_checked"]
    everything = rows(out, "rejected") + (rows(out, "data") if c["accepted"] else [])
    checked = [x for x in everything if x["judge_rubric"]]
    assert len(checked) == mc["items_checked"]
    memorized = next(x for x in everything if x["id"] == MEMORIZED_ITEM)  # it passes every rule
    assert memorized["judge_rubric"] == "judge_v1" and len(memorized["answer_check_answers"]) == 2
    for x in checked:  # a score, or the reason why there is none
        assert (x["judge_score"] is None) == (SYNTH_JUDGE_UNPARSEABLE in (x.get("reasons") or [])), x["id"]
    for x in everything:
        assert set(x.get("reasons") or []) <= KNOWN_REASONS
        if "reasons" not in x:  # accepted: passed both checks
            assert x["judge_score"] >= 3 and x["answer_check_agreement"] >= 0.5
    # resume: the last chunk written again, from the cache only
    last = max(glob.glob(str(out / ".work" / "chunks" / "*.json")))
    number = os.path.basename(last)[len("chunk-") : -len(".json")]
    for path in [last, out / "manifest.json", *glob.glob(str(out / "*" / f"*-{number}.parquet"))]:
        os.remove(path)
    m2 = go()
    assert m2["throughput"]["requests_sent"] == m2["throughput"]["check_requests_sent"] == 0
    assert m2["counts"] == c and m2["model_checks"]["score_distribution"] == mc["score_distribution"]


def test_ehr_template_on_the_tiny_model(corpus, model, passages, data_dir, tmp_path):
    """One item per distinct local name of the passages; whatever the model answers, each is
    accepted with a code and name of the master or rejected with a known reason."""
    from jmedcorpus.synth.ehr_master import StandardMaster
    from jmedcorpus.synth.ehr_names import local_names_in

    r = recipe(model)
    r.template, r.ehr.master = "ehr_lab_name_v1", str(data_dir / "lab_master_jlac_like.csv")
    r.sampling = type(r.sampling)(temperature=0.0, max_tokens=40, seed=0)
    m = synth(SynthOptions([str(corpus)], str(tmp_path / "ehr"), r, workers=2, progress=False))
    names = {n for p in passages.values() for n in local_names_in(p.text)}
    c = m["counts"]
    assert m["selection"]["local_names"]["local_names"] == len(names) == c["passages"] >= 10
    assert c["accepted"] + c["rejected"] == len(names)
    rejected = rows(tmp_path / "ehr", "rejected")
    assert all(x["kind"] == "ehr" and set(x["reasons"]) <= KNOWN_REASONS for x in rejected)
    master = StandardMaster.from_csv(r.ehr.master)
    for x in rows(tmp_path / "ehr", "data") if c["accepted"] else []:
        assert master.check(x["question"], x["answer"], x["answer_text"]) is not None
        assert master.by_code[x["answer"]].name == x["answer_text"] and x["question"] in names


def test_cli_turns_the_checks_on(corpus, model, tmp_path, capsys):
    args = ["synth", "--input", str(corpus), "--output", str(tmp_path / "qa"), "--engine", "transformers"]
    args += ["--model", str(model), "--temperature", "0", "-n", "3", "--no-progress", "--max-tokens", "5"]
    args += ["--min-tokens", "5", "--answer-check", "--answer-k", "2", "--judge", "--judge-min-score", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "judge (judge_v1): mean score None" in printed and "answer check: 0 items" in printed
    with open(tmp_path / "qa" / "manifest.json", encoding="utf-8") as f:
        m = json.load(f)
    assert m["recipe"]["answer_check"]["enabled"] and m["recipe"]["answer_check"]["k"] == 2
    assert m["recipe"]["judge"]["enabled"] and m["recipe"]["judge"]["min_score"] == 1
    assert m["model_checks"]["items_checked"] == 0  # every output cut at 5 tokens: nothing to check
