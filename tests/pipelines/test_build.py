"""End-to-end builds on real Japanese and English medical text, on both engines (Ray and forked
processes) where the engine could make a difference."""

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

from jmedcorpus.pipelines.build import BuildFailed, BuildOptions, build
from jmedcorpus.recipe import load_recipe

pytestmark = pytest.mark.ray


@pytest.fixture
def corpus(tmp_path, data_dir):
    """Real fixtures plus malformed lines, in two folders."""
    src = tmp_path / "in"
    (src / "ja").mkdir(parents=True)
    (src / "en").mkdir()
    shutil.copy(data_dir / "case_reports_ja.jsonl", src / "ja")
    shutil.copy(data_dir / "igakuqa_ja.jsonl", src / "ja")
    shutil.copy(data_dir / "pubmedqa_en.jsonl", src / "en")
    shutil.copy(data_dir / "igakuqa_en.jsonl", src / "en")
    with open(src / "ja" / "zz_bad.jsonl", "wb") as f:
        f.write(b'{"id": "cut", "text": "\xe7\x97\x87\n{"id": "bin", "text": "\xff"}\n{"id": "nt"}\n')
    return src


ENGINES = pytest.mark.parametrize("engine", ["ray", "processes"])


def run_build(inputs, out, workers=2, chunk_mb=0.01, engine="ray", **kw):
    recipe = load_recipe()
    recipe.input.chunk_mb = chunk_mb  # tiny units: many tasks even on small data
    return build(
        BuildOptions(
            inputs=[str(i) for i in inputs],
            output=str(out),
            recipe=recipe,
            workers=workers,
            engine=engine,
            progress=False,
            **kw,
        )
    )


def read_shards(out):
    return pq.read_table(str(out / "data")).to_pylist()


@ENGINES
def test_build_accounts_for_every_record(ray_local, corpus, tmp_path, engine):
    out = tmp_path / "out"
    m = run_build([corpus], out, engine=engine)
    assert m["engine"] == engine
    c = m["counts"]
    assert c["records_in"] == 14 + 6 + 6 + 6 + 3
    assert c["records_in"] == c["kept"] + c["removed"] + c["quarantined"]
    assert c["quarantined_by_error"] == {"invalid_json": 1, "invalid_utf8": 1, "missing_text": 1}
    steps = {s["name"]: s for s in m["steps"]}
    assert steps["language"]["reasons"] == {"lang_not_ja": 12}
    assert steps["exact_dedup"]["reasons"] == {"dedup_exact_duplicate": 2}
    for s in m["steps"]:
        assert s["in"] == s["out"] + s["removed"]
    rows = read_shards(out)
    assert len(rows) == c["kept"] == 18
    assert {
        "id",
        "text",
        "source",
        "chars",
        "mecab_tokens",
        "language",
        "language_score",
        "hiragana_ratio",
    } <= set(rows[0])
    # every dropped document is in removed/ with its step and reason; duplicates name the kept id
    removed = pq.read_table(str(out / "removed")).to_pylist()
    assert len(removed) == c["removed"]
    dups = {r["id"]: r["duplicate_of"] for r in removed if r["reason"] == "dedup_exact_duplicate"}
    assert dups == {"medtxt-cr-ner-0000": "medtxt-cr-0000", "medtxt-cr-ner-0002": "medtxt-cr-0002"}
    quarantine = pq.read_table(str(out / "quarantine")).to_pylist()
    assert sorted((q["file"], q["line"]) for q in quarantine) == [
        ("ja/zz_bad.jsonl", 1),
        ("ja/zz_bad.jsonl", 2),
        ("ja/zz_bad.jsonl", 3),
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["versions"]["mecab_dictionary"].startswith("unidic-lite")
    assert manifest["recipe"]["steps"][3]["use"] == "language"  # normalize, personal_info, mecab, language
    assert not (out / ".work").exists()


def test_datasets_reads_the_output(ray_local, corpus, tmp_path):
    import datasets

    out = tmp_path / "out"
    m = run_build([corpus], out)
    ds = datasets.load_dataset("parquet", data_dir=str(out / "data"), split="train")
    assert ds.num_rows == m["counts"]["kept"]
    assert ds[0]["id"] == "medtxt-cr-0000"  # input order: first file, first record


def test_workers_and_engines_give_identical_output(ray_local, corpus, tmp_path):
    recipe = load_recipe()
    recipe.input.chunk_mb = 0.01
    recipe.output.shard_mb = 0.02  # several shards
    outs = []
    for workers, engine in ((1, "ray"), (2, "ray"), (2, "processes")):
        out = tmp_path / f"w{workers}-{engine}"
        build(
            BuildOptions(
                inputs=[str(corpus)],
                output=str(out),
                recipe=recipe,
                workers=workers,
                engine=engine,
                progress=False,
            )
        )
        outs.append(out)
    files = [sorted(os.listdir(o / "data")) for o in outs]
    assert files[0] == files[1] == files[2] and len(files[0]) > 1
    for name in files[0]:
        first, *others = (pq.read_table(str(o / "data" / name)) for o in outs)
        assert all(first.equals(other) for other in others)
    for sub in ("removed", "quarantine"):
        listed = [sorted(p.relative_to(o) for p in (o / sub).rglob("*.parquet")) for o in outs]
        assert listed[0] == listed[1] == listed[2]


@ENGINES
def test_failed_task_exits_with_summary_then_rerun_resumes(ray_local, corpus, tmp_path, engine):
    out = tmp_path / "out"
    with pytest.raises(BuildFailed) as e:
        run_build([corpus], out, fault={"unit": 1, "kind": "raise"}, engine=engine)
    summary = str(e.value)
    assert "1 of" in summary and "unit-000001" in summary and "RuntimeError" in summary
    assert not (out / "manifest.json").exists()
    # same command again: completed units are not re-run (a fault in unit 0 would fail the build
    # if it ran again), the failed unit is
    m = run_build([corpus], out, fault={"unit": 0, "kind": "raise"}, engine=engine)
    assert m["counts"]["kept"] == 18


@ENGINES
def test_hard_killed_worker_is_retried(ray_local, corpus, tmp_path, engine):
    marker = tmp_path / "crashed-once"
    fault = {"unit": 0, "kind": "crash_once", "marker": str(marker)}
    m = run_build([corpus], tmp_path / "out", fault=fault, engine=engine)
    assert marker.exists() and m["counts"]["kept"] == 18


@ENGINES
def test_worker_that_always_dies_is_reported_not_hung(ray_local, corpus, tmp_path, engine):
    with pytest.raises(BuildFailed, match="WorkerCrashedError") as e:
        run_build([corpus], tmp_path / "out", fault={"unit": 0, "kind": "crash"}, engine=engine)
    assert "unit-000000" in str(e.value) and "1 of" in str(e.value)  # only the unit that died


def test_rerun_is_up_to_date_and_never_leaves_partial_or_stale_shards(ray_local, corpus, tmp_path):
    out = tmp_path / "out"
    run_build([corpus], out)
    assert run_build([corpus], out).get("up_to_date") is True
    # a killed earlier run: a half-written temporary file and a shard of a different plan
    (out / "data" / ".train-00000-of-00001.parquet.tmp-123").write_bytes(b"partial")
    (out / "data" / "train-00000-of-00007.parquet").write_bytes(b"stale")
    (out / "manifest.json").unlink()
    run_build([corpus], out)
    assert os.listdir(out / "data") == ["train-00000-of-00001.parquet"]


def test_refuses_a_foreign_output_directory(ray_local, corpus, tmp_path):
    from jmedcorpus.errors import UserError

    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.docx").write_text("x")
    with pytest.raises(UserError, match="not a jmedcorpus output"):
        run_build([corpus], tmp_path / "home")
