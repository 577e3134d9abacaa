"""``jmedcorpus inspect`` on a real small build: removed documents with the threshold that fired,
filters, deterministic samples, near-duplicate pairs with their differences, ``--id`` traces,
redaction highlighting, JSON Lines read back, and one-line errors."""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import time

import pyarrow.parquet as pq
import pytest
from conftest import read_jsonl

from jmedcorpus.errors import UserError
from jmedcorpus.pipelines.build import BuildOptions, build
from jmedcorpus.recipe import load_recipe
from jmedcorpus.report import diff
from jmedcorpus.report.inspect import add_inspect_parser, cmd_inspect
from jmedcorpus.report.inspect_pager import Writer
from jmedcorpus.report.thresholds import crossed, thresholds_by_step, thresholds_from_recipe

ray = pytest.mark.ray  # the tests that read the fixture build (it runs on Ray)

REDACTED = (
    "<NAME>さん（<AGE>歳、男性）は３日前からの発熱と湿性咳嗽を主訴に当院を受診した。連絡先は<PHONE>。"
    "胸部Ｘ線写真で右下肺野に浸潤影を認め、市中肺炎と診断して抗菌薬の点滴投与を開始したところ、第５病日には解熱した。"
)
SHORT = "右下腹部痛で来院した。"  # 11 non-space characters: below doc_length.min_chars 20


@pytest.fixture(scope="module")
def built(ray_local, data_dir, tmp_path_factory):
    """Real case reports (two exact duplicates among them), exam questions, English abstracts
    (removed by language), a near copy of a report with one character changed (removed by
    minhash_dedup), a redacted note, a too-short note and two malformed records."""
    src = tmp_path_factory.mktemp("inspect-src")
    for name in ("case_reports_ja.jsonl", "igakuqa_ja.jsonl", "pubmedqa_en.jsonl"):
        shutil.copy(data_dir / name, src / name)
    report = read_jsonl(data_dir / "case_reports_ja.jsonl")[5]
    i = 40
    copy = report["text"][:i] + "Ａ" + report["text"][i + 1 :]
    planted = [
        {"id": "zz-near-copy", "text": copy, "source": "planted"},
        {"id": "redacted-note", "text": REDACTED, "source": "notes"},
        {"id": "short-note", "text": SHORT, "source": "notes"},
    ]
    with open(src / "planted.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in planted)
    with open(src / "zz_bad.jsonl", "wb") as f:
        f.write(b'{"id": "q-no-text", "body": "x"}\n{"id": "q-cut", "text": "\xe7\x97\x87\n')
    out = tmp_path_factory.mktemp("inspect-out") / "out"
    manifest = build(BuildOptions([str(src)], str(out), load_recipe(), workers=2, progress=False))
    return out, manifest, report["id"]


def run(capsys, *argv) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="jmedcorpus")
    add_inspect_parser(parser.add_subparsers(dest="command"))
    rc = cmd_inspect(parser.parse_args(["inspect", *map(str, argv)]))
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv) -> list[dict]:
    rc, out, _ = run(capsys, *argv, "--json")
    assert rc == 0
    return [json.loads(line) for line in out.splitlines()]


def error(capsys, *argv) -> str:
    with pytest.raises(UserError) as e:
        run(capsys, *argv)
    message = str(e.value)
    assert "\n" not in message
    return message


@ray
def test_fixture_build_has_every_case(built):
    _, m, _ = built
    reasons = {s["name"]: s["reasons"] for s in m["steps"]}
    assert reasons["language"] == {"lang_not_ja": 6}
    assert reasons["doc_length"] == {"quality_too_short": 1}
    assert reasons["exact_dedup"] == {"dedup_exact_duplicate": 2}
    assert reasons["minhash_dedup"] == {"dedup_near_duplicate": 1}
    assert m["counts"]["quarantined"] == 2


@ray
def test_removed_reason_shows_signals_and_the_threshold_that_fired(built, capsys):
    out, _, _ = built
    rc, text, _ = run(capsys, out, "--removed", "lang_not_ja", "--limit", 1)
    assert rc == 0
    assert "removed by language: lang_not_ja" in text
    line = next(li for li in text.splitlines() if li.strip().startswith("signals"))
    assert re.search(r"language\s+en\s+not in languages \['ja'\]\s+◀ fired \(language\)", line)
    assert re.search(r"language_score\s+0\.\d+\s+\(min_score 0\.5\)", text)  # shown, did not fire
    docs = run_json(capsys, out, "--removed", "lang_not_ja", "--limit", 0)
    assert len(docs) == 6 and {d["source"] for d in docs} == {"pubmedqa"}
    for d in docs:
        assert (d["status"], d["step"], d["reason"]) == ("removed", "language", "lang_not_ja")
        assert d["signals"]["language"] == "en" and d["signals"]["language_score"] > 0.5
        assert d["thresholds_fired"] == [
            {
                "signal": "language",
                "value": "en",
                "step": "language",
                "bound": "allowed",
                "param": "languages",
                "threshold": ["ja"],
                "removed_when": "value not in allowed",
            }
        ]
        assert len(d["excerpt"]) == 400 and "text" not in d


@ray
def test_a_min_threshold_that_fired(built, capsys):
    out, _, _ = built
    _, text, _ = run(capsys, out, "--removed", "quality_too_short")
    assert re.search(r"non_space_chars\s+11\s+< min_chars 20\s+◀ fired \(doc_length\)", text)
    assert SHORT in text
    (doc,) = run_json(capsys, out, "--step", "doc_length", "--full")
    assert doc["text"] == SHORT
    assert [(f["signal"], f["value"], f["bound"], f["threshold"]) for f in doc["thresholds_fired"]] == [
        ("non_space_chars", 11, "min", 20)
    ]


@ray
def test_kept_and_source(built, capsys):
    out, _, _ = built
    kept = pq.read_table(out / "data", columns=["id", "source"]).to_pylist()
    docs = run_json(capsys, out, "--kept", "--source", "igakuqa", "--limit", 0)
    assert [d["id"] for d in docs] == [r["id"] for r in kept if r["source"] == "igakuqa"]
    assert all(d["status"] == "kept" and d["file"].startswith("data/") for d in docs)
    assert all(d["thresholds_fired"] == [] and "hiragana_ratio" in d["signals"] for d in docs)
    _, text, _ = run(capsys, out, "--kept", "--source", "igakuqa", "--limit", 2)
    assert text.count("kept: in data/") == 2 and "-- first 2 matches" in text
    assert run_json(capsys, out, "--kept", "--source", "pubmedqa") == []  # all removed


@ray
def test_query_matches_text_and_centres_the_excerpt(built, capsys):
    out, _, _ = built
    pattern = "肝(機能)?障害"
    rows = pq.read_table(out / "data", columns=["id", "text"]).to_pylist()
    rows += pq.read_table(out / "removed", columns=["id", "text"]).to_pylist()
    expected = sorted(r["id"] for r in rows if re.search(pattern, r["text"]))
    docs = run_json(capsys, out, "--query", pattern, "--limit", 0, "--chars", 40)
    assert sorted(d["id"] for d in docs) == expected and expected
    for d in docs:
        assert re.search(pattern, d["excerpt"])  # the excerpt is around the first match
    docs = run_json(capsys, out, "--query", "^Programmed cell death", "--removed")
    assert [d["id"] for d in docs] == ["pubmedqa-21645374"]
    _, text, _ = run(capsys, out, "--query", "多発肝膿瘍", "--kept", "--chars", 30)
    assert "(characters 262-292 of 920)" in text and "経過から多発肝膿瘍" in text  # 30 chars, match at 269


@ray
def test_sample_is_deterministic(built, capsys):
    out, _, _ = built
    first = run_json(capsys, out, "--kept", "--sample", 5, "--seed", 3)
    again = run_json(capsys, out, "--kept", "--sample", 5, "--seed", 3)
    assert first == again and len({d["id"] for d in first}) == 5
    others = [
        [d["id"] for d in run_json(capsys, out, "--kept", "--sample", 5, "--seed", s)] for s in range(4)
    ]
    assert len({tuple(o) for o in others}) > 1  # the seed matters
    kept = pq.read_table(out / "data", columns=["id"]).column("id").to_pylist()
    positions = [kept.index(d["id"]) for d in first]
    assert positions == sorted(positions)  # shown in file order
    _, text, _ = run(capsys, out, "--kept", "--sample", 5, "--seed", 3)
    assert f"-- 5 of {len(kept)} matching, sampled with seed 3 --" in text


@ray
def test_pairs_show_the_kept_document_with_the_difference(built, capsys):
    out, _, original = built
    _, text, _ = run(capsys, out, "--pairs", "--step", "minhash_dedup", "--no-color")
    assert "zz-near-copy" in text and f"duplicate  of {original}" in text
    assert re.search(r"\[-.-\]", text) and "{+A+}" in text
    assert f"kept {original}:" in text and "removed zz-near-copy:" in text  # 80 columns: stacked
    _, wide, _ = run(capsys, out, "--pairs", "--step", "minhash_dedup", "--width", 160)
    header = next(li for li in wide.splitlines() if li.strip().startswith(f"kept {original}"))
    assert " │ removed zz-near-copy" in header  # two columns
    _, colored, _ = run(capsys, out, "--pairs", "--step", "minhash_dedup", "--color", "always")
    assert "\x1b[32mA\x1b[0m" in colored and "\x1b[31m" in colored
    (doc,) = run_json(capsys, out, "--pairs", "--step", "minhash_dedup")
    assert doc["duplicate_of"] == original and doc["cluster"] is not None
    assert doc["thresholds_fired"][0]["signal"] == "near_duplicate_jaccard"
    assert doc["pair"]["kept_id"] == original and doc["pair"]["kept_status"] == "kept"
    (change,) = doc["pair"]["diff"]
    assert change["op"] == "replace" and change["removed"] == "A" and change["removed_span"] == [40, 41]
    exact = run_json(capsys, out, "--pairs", "--removed", "dedup_exact_duplicate")
    assert {d["id"]: d["duplicate_of"] for d in exact} == {
        "medtxt-cr-ner-0000": "medtxt-cr-0000",
        "medtxt-cr-ner-0002": "medtxt-cr-0002",
    }
    assert all(d["pair"]["diff"] == [] for d in exact)  # identical after normalization


@ray
def test_id_traces_a_kept_document(built, capsys):
    out, m, _ = built
    _, text, _ = run(capsys, out, "--id", "medtxt-cr-0000")
    names = [s["name"] for s in m["steps"]]
    for n, name in enumerate(names, 1):
        assert re.search(rf"^\s+{n}\s+{name}\s+passed", text, re.MULTILINE)
    assert "kept: in data/train-00000-of-00001.parquet" in text
    assert re.search(r"hiragana_ratio\s+passed\s+hiragana_ratio 0\.\d+ \(min_ratio 0\.02\)", text)
    (obj,) = run_json(capsys, out, "--id", "medtxt-cr-0000")
    assert obj["status"] == "kept" and [t["step"] for t in obj["trace"]] == names
    assert {t["result"] for t in obj["trace"]} == {"passed"}
    lang = next(t for t in obj["trace"] if t["step"] == "language")
    assert lang["signals"]["language"] == "ja" and lang["thresholds"]["language_score"] == "min_score 0.5"


@ray
def test_id_traces_a_removed_document(built, capsys):
    out, _, _ = built
    (obj,) = run_json(capsys, out, "--id", "pubmedqa-16418930")
    results = [(t["step"], t["result"]) for t in obj["trace"]]
    k = [s for s, _ in results].index("language")
    assert all(r == "passed" for _, r in results[:k]) and results[k] == ("language", "removed")
    assert all(r == "not reached" for _, r in results[k + 1 :])
    assert obj["trace"][k]["reason"] == "lang_not_ja" and obj["trace"][k]["thresholds_fired"]
    mecab = [s for s, _ in results].index("mecab")
    assert obj["trace"][mecab]["signals"]["mecab_tokens"] > 0  # what mecab measured before the drop
    _, text, _ = run(capsys, out, "--id", "zz-near-copy")
    assert re.search(r"minhash_dedup\s+REMOVED dedup_near_duplicate", text)
    assert "near_duplicate_jaccard" in text and "◀ fired" in text and "{+A+}" in text


@ray
def test_id_of_a_quarantined_record_and_an_unknown_id(built, capsys):
    out, _, _ = built
    _, text, _ = run(capsys, out, "--id", "q-no-text")
    assert "missing_text" in text and "zz_bad.jsonl line 1" in text and "no step ran" in text
    (obj,) = run_json(capsys, out, "--id", "q-no-text")
    assert (obj["status"], obj["error"], obj["trace"]) == ("quarantined", "missing_text", [])
    assert "not kept, removed nor quarantined" in error(capsys, out, "--id", "no-such-id")
    assert "not kept" in error(capsys, out, "--id", "q-cut")  # its raw JSON is cut: no id to find


@ray
def test_quarantined_records(built, capsys):
    out, _, _ = built
    recs = run_json(capsys, out, "--quarantined")
    assert sorted((r["input_file"], r["line"], r["error"]) for r in recs) == [
        ("zz_bad.jsonl", 1, "missing_text"),
        ("zz_bad.jsonl", 2, "invalid_json"),
    ]
    assert all("raw_preview" not in r for r in recs)
    _, text, _ = run(capsys, out, "--quarantined", "--raw")
    assert '{"id": "q-cut", "text": "症\\n' in text


@ray
def test_redactions_are_highlighted(built, capsys):
    out, _, _ = built
    _, text, _ = run(capsys, out, "--id", "redacted-note", "--no-color")
    assert "«<NAME>»さん" in text and "«<PHONE>»" in text
    assert "redacted   <NAME> ×1, <AGE> ×1, <PHONE> ×1" in text
    _, colored, _ = run(capsys, out, "--source", "notes", "--kept", "--color", "always")
    assert "\x1b[30;43m<NAME>\x1b[0m" in colored
    (doc,) = run_json(capsys, out, "--kept", "--source", "notes")
    assert doc["redactions"] == {"<NAME>": 1, "<AGE>": 1, "<PHONE>": 1}


@ray
def test_errors_are_one_line(built, capsys, tmp_path):
    out, _, _ = built
    message = error(capsys, out, "--removed", "lang_not_jp")
    assert "did you mean 'lang_not_ja'" in message and "lang_not_ja (6)" in message
    assert "dedup_near_duplicate (1)" in message
    assert "--quarantined" in error(capsys, out, "--removed", "missing_text")
    assert "steps of this build: normalize, personal_info, mecab, language" in error(
        capsys, out, "--step", "lang"
    )
    assert "not a valid regular expression" in error(capsys, out, "--query", "(")
    assert "not a jmedcorpus build output" in error(capsys, tmp_path)
    assert "does not combine" in error(capsys, out, "--kept", "--removed")
    assert "does not combine with --source" in error(capsys, out, "--id", "x", "--source", "y")
    assert "--sample" in error(capsys, out, "--seed", "1")
    _, text, _ = run(capsys, "--removed", out, "--limit", 1)  # `--removed OUT` still works
    assert "removed by" in text


def test_help_explains_every_option(capsys):
    parser = argparse.ArgumentParser(prog="jmedcorpus")
    add_inspect_parser(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["inspect", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--removed lang_not_ja" in text
    for action in parser._subparsers._group_actions[0].choices["inspect"]._actions:
        assert action.help, action.dest


@ray
def test_thresholds_from_recipe(built):
    _, m, _ = built
    t = thresholds_from_recipe(m["recipe"])
    assert t["language_score"] | {} == t["language_score"] and t["language_score"]["min"] == 0.5
    assert (t["non_space_chars"]["min"], t["non_space_chars"]["max"]) == (20, 1_000_000)
    assert t["mean_sentence_length"]["params"] == {"min": "min_mean_chars", "max": "max_mean_chars"}
    assert t["gopher_dup_line_frac"]["max"] == 0.6 and "gopher_duplicated_5_n_grams" not in t  # 0 = off
    assert (
        t["near_duplicate_jaccard"]["step"] == "minhash_dedup" and t["near_duplicate_jaccard"]["min"] == 0.6
    )
    assert (
        crossed(t["near_duplicate_jaccard"], 0.6) == "min"
        and crossed(t["near_duplicate_jaccard"], 0.5) is None
    )
    assert crossed(t["katakana_ratio"], 0.71) == "max" and crossed(t["hiragana_ratio"], 0.01) == "min"
    json.dumps(t)  # JSON-ready (stats.json embeds it)
    two = thresholds_by_step(
        {"steps": [{"use": "digit_ratio", "max_ratio": 0.5}, {"use": "digit_ratio", "max_ratio": 0.3}]}
    )
    assert two["digit_ratio_2"]["digit_ratio"]["max"] == 0.3
    paragraph = thresholds_from_recipe(
        {"steps": [{"use": "language", "mode": "paragraph", "min_allowed_fraction": 0.5}]}
    )
    assert set(paragraph) == {"language_allowed_fraction"}


def test_diff_is_bounded_and_columns_fit():
    base = "".join(r["text"] for r in read_jsonl("tests/data/case_reports_ja.jsonl")) * 30  # ~300k chars
    edited = base[:1000] + "X" + base[1000:150_000] + base[150_010:]
    started = time.perf_counter()
    ops = diff.diff_ops(base, edited)
    assert time.perf_counter() - started < 5
    assert [(c["op"], c["kept_span"], c["removed"]) for c in diff.changes(base, edited, ops)] == [
        ("insert", [1000, 1000], "X"),
        ("delete", [150_000, 150_010], ""),
    ]
    a, b = "症例は70歳,男性.\n発熱を認めた.", "症例は71歳,男性.\n発熱と咳を認めた."
    lines = diff.side_by_side(a, b, diff.diff_ops(a, b), 40, False, ("kept", "removed"))
    assert all(diff.text_width(line) <= 40 for line in lines)
    assert "[-0-]" in lines[2] and "{+1+}" in lines[2]  # the shared line break realigns the rows


def test_pager_only_for_a_terminal(tmp_path, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    target = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"cat > {target}")
    tty = Tty()
    w = Writer(page=True, stream=tty)
    for n in range(200):
        w.write(f"line {n}")
    w.close()
    assert target.read_text().splitlines() == [f"line {n}" for n in range(200)] and tty.getvalue() == ""
    short = Tty()
    w = Writer(page=True, stream=short)
    w.write("one line")
    w.close()
    assert short.getvalue() == "one line\n"  # shorter than the terminal: no pager
    plain = io.StringIO()
    w = Writer(page=True, stream=plain)
    for n in range(200):
        w.write(f"line {n}")
    w.close()
    assert len(plain.getvalue().splitlines()) == 200  # not a terminal: never paged
