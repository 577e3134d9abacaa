"""The own cost of the model checks (answer check, judge score) and of the EHR template in
``jmedcorpus synth``, per item and without model time (issue 19).

The checks add engine requests (k answers and one verdict per item that passed the rules); the
model's time for those is the engine's and depends on the model and the GPU. What this script
measures is the rest, the work ``synth`` itself does per checked item, on CPU:

1. **Components**, each timed alone over ``-n`` realistic items, best of ``--repeat``:

   - items: the exam outputs of ``tests/data/synth_outputs.jsonl`` that the pipeline accepts,
     parsed, each with the case report it was written for as its passage, repeated under
     distinct passage keys;
   - scripted model outputs in the forms a model gives: answers as JSON, fenced JSON after
     chatter and an answer line (``正解: a``); a verdict as fenced JSON with the four criteria and
     a comment, after a sentence of chatter;
   - timed: building the requests (``AnswerCheck.requests``, ``RubricJudge.request``) with their
     cache keys (as ``ChunkRun.serve`` computes them), the verdicts (``decide``), the whole of
     :class:`ModelChecks` (requests + verdicts + the chunk tally), and the request cache for the
     k + 1 check completions (get miss + put, one fsync per 50 items);
   - EHR: local-name extraction (MB/s over the case reports), the master's candidates per name
     (the 30-entry test master and a generated 5,000-entry one: what a hospital's lab master
     is), reading the answer and checking it against the master.

2. **Whole path** (``--whole``; starts Ray): ``synth()`` over the first ``--docs`` case reports of
   ``--data-dir`` with an engine that answers instantly from a script (the tests' scripted
   engine: a grounded item per passage, fixed answers and verdicts), checks off and on (k = 3 and
   the judge). With no model time, the difference in wall time of the chunk loop per checked item
   is the checks' whole overhead, cache traffic and extra rows included; the manifest's
   ``checks_ms_per_item`` is the part measured inside the run (requests, cache, verdicts).

Prints Markdown tables (``--json PATH`` writes the figures); never prints document or output text.

usage:
    python bench/bench_synth_checks.py
    python bench/bench_synth_checks.py --whole --docs 100 -n 300 --json /tmp/bench_checks.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "synth"))  # the scripted engine of the tests

from bench_synth import best_of, log, read_jsonl

ANSWERS = ['{"answer": "a"}', '考えます。\n```json\n{"answer": "a"}\n```', "本文より判断すると、\n正解: a"]
VERDICT = (
    "以下のとおり評価します。\n```json\n"
    '{"medically_correct": 5, "answerable": 4, "single_best_answer": 5, "exam_style": 4, "score": 4, '
    '"comment": "本文の経過から正解を一つに導ける。選択肢は医学的に妥当である。"}\n```'
)


def exam_items(n: int):
    """``n`` (passage, item) pairs from the accepted exam fixture outputs."""
    from jmedcorpus.synth.items import ExamItem
    from jmedcorpus.synth.parsing import parse_exam
    from jmedcorpus.synth.passages import Passage

    data = REPO / "tests" / "data"
    reports = {r["id"]: r["text"] for r in read_jsonl(data / "case_reports_ja.jsonl")}
    base = []
    for r in read_jsonl(data / "synth_outputs.jsonl"):
        item = parse_exam(r["raw"]) if r["kind"] == "exam" and r["expect"] == "accepted" else None
        if isinstance(item, ExamItem):
            base.append((reports[r["passage_id"]], item))
    out = []
    for i in range(n):
        text, item = base[i % len(base)]
        out.append((Passage(f"bench-{i:06d}", 0, text, 0, len(text), 300, 0.3), item))
    return out


def components(args) -> dict:
    from jmedcorpus.synth.answer_check import AnswerCheck
    from jmedcorpus.synth.cache import RequestCache
    from jmedcorpus.synth.engines.base import Completion
    from jmedcorpus.synth.model_checks import ModelChecks, tally
    from jmedcorpus.synth.rubric_judge import RubricJudge

    items, rep = exam_items(args.n), args.repeat
    check, judge = AnswerCheck(k=3), RubricJudge()
    checks = ModelChecks(answer_check=check, judge=judge, judge_model="m")
    answer_of = [Completion(f"x#answer{j}", ANSWERS[j], "stop") for j in range(3)]
    verdict = Completion("x#judge", VERDICT, "stop")
    requests = [
        r
        for p, item in items
        for r in check.requests(p.key, p.text, item) + [judge.request(p.key, p.text, item)]
    ]
    completions = {
        r.key: Completion(r.key, verdict.text if r.key.endswith("#judge") else ANSWERS[0], "stop")
        for r in requests
    }
    keys = [r.cache_key("m") for r in requests]

    def answer_requests():
        for p, item in items:
            for r in check.requests(p.key, p.text, item):
                r.cache_key("m")

    def judge_requests():
        for p, item in items:
            judge.request(p.key, p.text, item).cache_key("m")

    def answer_decide():
        for _, item in items:
            check.decide(item, answer_of)

    def judge_decide():
        for _ in items:
            judge.decide(verdict)

    def whole():
        answer, judged = checks.requests(items)
        for r in answer + judged:
            r.cache_key("m")
        tally(list(checks.decide(items, completions).values()))

    counter = iter(range(10**6))

    def cache():
        with tempfile.TemporaryDirectory() as d:
            c = RequestCache(f"{d}/{next(counter)}")
            for i, (key, r) in enumerate(zip(keys, requests)):
                c.get(key, r.key)
                c.put(key, completions[r.key])
                if i % (50 * 4) == 0:
                    c.sync()
            c.close()

    ms = {}
    for name, fn in (
        ("answer check: requests + cache keys (k=3)", answer_requests),
        ("answer check: verdict (read 3 answers, majority)", answer_decide),
        ("judge: request + cache key", judge_requests),
        ("judge: verdict (read fenced JSON, floor)", judge_decide),
        ("both checks: ModelChecks requests + verdicts + tally", whole),
        ("request cache for the 4 check completions (get + put + fsync/50 items)", cache),
    ):
        ms[name] = 1000 * best_of(rep, fn)[0] / len(items)
    ms["total per checked item (both checks + cache)"] = (
        ms["both checks: ModelChecks requests + verdicts + tally"]
        + ms["request cache for the 4 check completions (get + put + fsync/50 items)"]
    )
    return {"items": len(items), "ms_per_item": ms}


def big_master(n: int):
    """A generated master of ``n`` entries: the test master's names with specimen and method
    variants (what makes real lab masters large), codes made up."""
    from jmedcorpus.synth.ehr_master import MasterEntry, StandardMaster

    test = StandardMaster.from_csv(str(REPO / "tests" / "data" / "lab_master_jlac_like.csv"))
    variants = ["", "(血清)", "(血漿)", "(尿)", "(全血)", "(髄液)", "(院内)", "(外注)"]
    entries = []
    for i in range(n):
        e = test.entries[i % len(test.entries)]
        entries.append(
            MasterEntry(
                f"9Z{i:05d}0000023271{i % 97:02d}", f"{e.name}{variants[(i // 30) % 8]}{i // 240 or ''}"
            )
        )
    return StandardMaster(entries, "generated")


def ehr(args) -> dict:
    from jmedcorpus.synth.ehr_master import StandardMaster, format_candidates, parse_ehr
    from jmedcorpus.synth.ehr_names import local_names_in

    texts = [r["text"] for r in read_jsonl(args.data_dir / "case_reports.jsonl")[: args.docs]]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    seconds, names = best_of(args.repeat, lambda: [n for t in texts for n in local_names_in(t)])
    distinct = list(dict.fromkeys(names)) or ["AST"]
    test = StandardMaster.from_csv(str(REPO / "tests" / "data" / "lab_master_jlac_like.csv"))
    t = time.perf_counter()
    big = big_master(5000)
    build_big = time.perf_counter() - t
    out = {
        "extraction": {"docs": len(texts), "mb": round(mb, 3), "mb_per_s": round(mb / seconds, 1)},
        "local_names": {"occurrences": len(names), "distinct": len(distinct)},
        "ms_per_name": {},
        "master_5000_index_ms": round(1000 * build_big, 1),
    }
    for label, master in (("test master (30)", test), ("generated master (5,000)", big)):
        s, _ = best_of(
            args.repeat, lambda m=master: [format_candidates(m.candidates(n, 20)) for n in distinct]
        )
        out["ms_per_name"][f"candidates + prompt list, {label}"] = 1000 * s / len(distinct)
    raw = '```json\n{"code": "3Z103000002327101", "standard_name": "AST(GOT)"}\n```'
    s, _ = best_of(args.repeat, lambda: [test.check(n, *parse_ehr(raw)) for n in distinct])
    out["ms_per_name"]["read the answer + check against the master"] = 1000 * s / len(distinct)
    return out


def whole_path(args, work: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from scripted_engine import ScriptedEngine, grounded_exam_item, passage_of

    from jmedcorpus.pipelines import synth_chunks
    from jmedcorpus.pipelines.synth import SynthOptions, synth
    from jmedcorpus.synth.config import load_synth_recipe

    docs = read_jsonl(args.data_dir / "case_reports.jsonl")[: args.docs]
    (work / "in").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist([{"id": str(d["id"]), "text": d["text"]} for d in docs]),
        work / "in" / "d.parquet",
    )

    def script(r):
        if "#answer" in r.key:
            return ANSWERS[int(r.key.rsplit("#answer", 1)[1]) % 3]
        return VERDICT if r.key.endswith("#judge") else grounded_exam_item(passage_of(r)) or "作成できません"

    execute, spent = synth_chunks.ChunkRun.execute, {}

    def timed(self):
        t = time.perf_counter()
        try:
            execute(self)
        finally:
            spent["execute"] = time.perf_counter() - t

    synth_chunks.ChunkRun.execute = timed
    results = {}
    try:
        for label, on in (("checks off", False), ("checks on (k=3 + judge)", True)):
            r = load_synth_recipe()
            r.engine.model, r.passages.n, r.output.chunk_size = "scripted", args.n, 50
            r.answer_check.enabled = r.judge.enabled = on
            opts = SynthOptions(
                [str(work / "in")], str(work / label.split()[1]), r, workers=args.workers, progress=False
            )
            opts.engine = ScriptedEngine(script)
            m = synth(opts)
            t, checked = m["throughput"], (m.get("model_checks") or {}).get("items_checked", 0)
            results[label] = {
                "passages": m["counts"]["passages"],
                "items_checked": checked,
                "chunk_loop_seconds": round(spent["execute"], 3),
                "pipeline_ms_per_prompt": t["pipeline_ms_per_prompt"],
                "checks_ms_per_item": t.get("checks_ms_per_item"),
                "check_requests": t.get("check_requests_sent", 0),
            }
    finally:
        synth_chunks.ChunkRun.execute = execute
    off, on = results["checks off"], results["checks on (k=3 + judge)"]
    if on["items_checked"]:
        extra = on["chunk_loop_seconds"] - off["chunk_loop_seconds"]
        results["chunk loop difference per checked item, ms"] = round(1000 * extra / on["items_checked"], 3)
    return results


def report(res: dict) -> str:
    lines = [
        f"## Model checks: own cost per checked item ({res['components']['items']} items, best of {res['repeat']})",
        "",
    ]
    lines += ["| component | ms per item |", "| --- | --- |"]
    lines += [f"| {k} | {v:.3f} |" for k, v in res["components"]["ms_per_item"].items()]
    e = res["ehr"]
    lines += ["", "## EHR template", ""]
    x, n = e["extraction"], e["local_names"]
    lines.append(
        f"local-name extraction: {x['mb_per_s']} MB/s over {x['docs']} case reports ({x['mb']} MB); "
        f"{n['occurrences']} names, {n['distinct']} distinct; 5,000-entry master indexed in {e['master_5000_index_ms']} ms"
    )
    lines += ["", "| step | ms per local name |", "| --- | --- |"]
    lines += [f"| {k} | {v:.3f} |" for k, v in e["ms_per_name"].items()]
    if "whole" in res:
        lines += ["", "## Whole path with an instant scripted engine", ""]
        lines += [
            "| run | passages | items checked | check requests | chunk loop s | pipeline ms/prompt | checks ms/item |"
        ]
        lines += ["| --- | --- | --- | --- | --- | --- | --- |"]
        for label, w in res["whole"].items():
            if isinstance(w, dict):
                lines.append(
                    f"| {label} | {w['passages']} | {w['items_checked']} | {w['check_requests']} | "
                    f"{w['chunk_loop_seconds']} | {w['pipeline_ms_per_prompt']} | {w['checks_ms_per_item']} |"
                )
        if "chunk loop difference per checked item, ms" in res["whole"]:
            lines.append(
                f"\nchunk loop, on - off, per checked item: {res['whole']['chunk loop difference per checked item, ms']} ms"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("-n", type=int, default=300, help="items (and whole-path passages) (default 300)")
    ap.add_argument("--docs", type=int, default=100, help="case reports read (default 100)")
    ap.add_argument("--repeat", type=int, default=5, help="component timings: best of this many (default 5)")
    ap.add_argument(
        "--whole", action="store_true", help="also run synth() with checks off and on (starts Ray)"
    )
    ap.add_argument("--workers", type=int, default=1, help="Ray workers of the whole path (default 1)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()
    if not (args.data_dir / "case_reports.jsonl").exists():
        args.data_dir = REPO / "tests" / "data"  # the small fixture when ../shared/data is absent
        log(f"no case_reports.jsonl in the data dir: using {args.data_dir}")
    res = {"repeat": args.repeat}
    log("components")
    res["components"] = components(args)
    log("EHR template")
    res["ehr"] = ehr(args)
    if args.whole:
        log("whole path, checks off and on")
        with tempfile.TemporaryDirectory() as d:
            res["whole"] = whole_path(args, Path(d))
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
