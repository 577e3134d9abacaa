"""`jmedcorpus tokenize` end to end on a real build: shards read back by megatron-core's own
IndexedDataset, counts, the data-path list, resume, and refusals."""

from __future__ import annotations

import json

import pytest
from tokenize_helpers import expected_documents, megatron_documents, run

from jmedcorpus.errors import UserError
from jmedcorpus.pipelines.build import BuildFailed

pytestmark = pytest.mark.ray


def shard_files(out) -> dict[str, int]:
    """Every shard file and its mtime_ns."""
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted(out.glob("*/part-*"))}


def test_documents_round_trip_through_megatron(corpus, tokenizer_dir, tmp_path):
    out = tmp_path / "tok"
    m = run(corpus, out, tokenizer_dir, shard_tokens=2000, unit_mb=0.005)
    expected = expected_documents(corpus, tokenizer_dir)
    assert set(m["groups"]) == set(expected) == {"igakuqa", "medtxt-cr", "papers_ja.jsonl"}
    tok = m["tokenizer"]
    assert tok["eos_token"] == "<|im_end|>" and tok["dtype"] == "uint16" and tok["vocab_size"] == 4000
    assert m["run"]["units"] > 1 and m["run"]["units_tokenized"] == m["run"]["units"]
    for group, docs in expected.items():
        prefixes = m["groups"][group]["shards"]
        read = [d for p in prefixes for d in megatron_documents(out / p)]
        assert read == docs  # the same ids as transformers' own call, EOS after each, corpus order
        assert m["groups"][group]["documents"] == len(docs)
        assert m["groups"][group]["tokens"] == sum(map(len, docs))
    # --shard-tokens: whole documents, at most 2000 tokens a shard unless one document is longer
    assert len(m["shards"]) > len(expected)
    for s in m["shards"]:
        docs = megatron_documents(out / s["prefix"])
        assert s["documents"] == len(docs) and s["tokens"] == sum(map(len, docs))
        assert s["tokens"] <= 2000 or len(docs) == 1
        assert s["bin_bytes"] == 2 * s["tokens"] == (out / (s["prefix"] + ".bin")).stat().st_size
    assert m["totals"]["tokens"] == sum(s["tokens"] for s in m["shards"])
    assert sum(v["tokens"] for v in m["sources"].values()) == m["totals"]["tokens"]
    assert m["sources"]["medtxt-cr"]["group"] == "medtxt-cr"
    assert json.loads((out / "manifest.json").read_text()) == {
        k: v for k, v in m.items() if k != "up_to_date"
    }
    assert not list((out / ".work").glob("units/*/*.bin"))  # token files go once the shards are written


def test_shards_do_not_depend_on_units_workers_or_engine(corpus, tokenizer_dir, tmp_path):
    a = run(corpus, tmp_path / "a", tokenizer_dir, unit_mb=0.003, workers=2, engine="processes")
    b = run(corpus, tmp_path / "b", tokenizer_dir, unit_mb=100, workers=1, engine="ray")
    assert a["run"]["units"] > b["run"]["units"] == 1
    assert (a["run"]["engine"], b["run"]["engine"]) == ("processes", "ray")
    assert [s["prefix"] for s in a["shards"]] == [s["prefix"] for s in b["shards"]]
    for s in a["shards"]:
        for ext in (".bin", ".idx"):
            assert (tmp_path / "a" / (s["prefix"] + ext)).read_bytes() == (
                tmp_path / "b" / (s["prefix"] + ext)
            ).read_bytes()


def test_mix_writes_megatron_data_paths_with_token_shares(corpus, tokenizer_dir, tmp_path):
    from megatron.core.datasets.utils import get_blend_from_list

    out = tmp_path / "tok"
    m = run(corpus, out, tokenizer_dir, shard_tokens=3000, mix={"medtxt-cr": 2.0, "igakuqa": 0.0})
    prefixes, weights = get_blend_from_list((out / "data_paths.txt").read_text().split())
    tokens = {str(out / s["prefix"]): (s["group"], s["tokens"]) for s in m["shards"]}
    w = {"medtxt-cr": 2.0, "igakuqa": 0.0, "papers_ja.jsonl": 1.0}
    total = sum(w[g] * t for g, t in tokens.values())
    assert prefixes == [p for p, (g, _) in tokens.items() if g != "igakuqa"]  # weight 0: left out
    assert weights == pytest.approx([w[tokens[p][0]] * tokens[p][1] / total for p in prefixes], rel=1e-9)
    assert sum(weights) == pytest.approx(1.0)
    assert m["mix"]["weights"] == w
    shares = m["mix"]["token_shares"]
    assert shares["igakuqa"] == 0 and shares["medtxt-cr"] == pytest.approx(
        2 * m["groups"]["medtxt-cr"]["tokens"] / total
    )
    card = (out / "README.md").read_text(encoding="utf-8")  # the dataset card shows the shares
    assert card.startswith("---\n") and f"{m['totals']['tokens']:,} tokens" in card
    for g, row in m["groups"].items():
        assert f"| {g} | {row['documents']:,} | {row['tokens']:,} | {w[g]:g} | {shares[g]:.2%} |" in card
    # another mix on the same output: only data_paths.txt, the card and the manifest change
    before = shard_files(out)
    again = run(corpus, out, tokenizer_dir, shard_tokens=3000, mix={"*": 1.0}, data_root="/lustre/tok")
    assert again["up_to_date"] and shard_files(out) == before
    lines = (out / "data_paths.txt").read_text().splitlines()
    assert len(lines) == len(m["shards"]) and all(
        line.split()[1].startswith("/lustre/tok/") for line in lines
    )
    assert json.loads((out / "manifest.json").read_text())["mix"]["data_root"] == "/lustre/tok"
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| igakuqa |" in card and "| 0 | 0.00% |" not in card and "/lustre/tok/data_paths.txt" in card


def test_a_damaged_shard_is_the_only_one_redone(corpus, tokenizer_dir, tmp_path):
    out = tmp_path / "tok"
    first = run(corpus, out, tokenizer_dir, shard_tokens=1500, unit_mb=0.003)
    before = shard_files(out)
    victim = first["shards"][2]["prefix"]
    bin_bytes = (out / (victim + ".bin")).read_bytes()
    (out / (victim + ".idx")).unlink()  # as if killed between the .bin and the .idx
    (out / "manifest.json").unlink()
    m = run(corpus, out, tokenizer_dir, shard_tokens=1500, unit_mb=0.003)
    assert m["run"]["shards_written"] == 1 and m["run"]["shards_kept"] == len(first["shards"]) - 1
    assert 1 <= m["run"]["units_tokenized"] < first["run"]["units"]  # only the units the shard spans
    after = shard_files(out)
    changed = {f for f in after if after[f] != before.get(f)}
    assert changed == {victim + ".bin", victim + ".idx"}
    assert (out / (victim + ".bin")).read_bytes() == bin_bytes
    assert m["shards"] == first["shards"] and m["totals"] == first["totals"]
    # the same command on a finished output does nothing
    assert run(corpus, out, tokenizer_dir, shard_tokens=1500, unit_mb=0.003)["up_to_date"]
    assert shard_files(out) == after


def test_a_failed_run_keeps_its_work_and_resumes(corpus, tokenizer_dir, tmp_path):
    out = tmp_path / "tok"
    with pytest.raises(BuildFailed, match=r"tokenize failed: 1 of \d+ tokenize task"):
        run(corpus, out, tokenizer_dir, unit_mb=0.003, fault={"unit": 1})
    assert not (out / "manifest.json").exists()
    m = run(corpus, out, tokenizer_dir, unit_mb=0.003)
    assert m["run"]["units_tokenized"] == 1 < m["run"]["units"]
    expected = expected_documents(corpus, tokenizer_dir)
    for group, docs in expected.items():
        assert [d for p in m["groups"][group]["shards"] for d in megatron_documents(out / p)] == docs


def test_another_tokenizer_on_the_same_output_is_refused(
    corpus, tokenizer_dir, other_tokenizer_dir, tmp_path
):
    out = tmp_path / "tok"
    run(corpus, out, tokenizer_dir)
    with pytest.raises(UserError, match=r"other settings \(changed: tokenizer\).*--overwrite") as e:
        run(corpus, out, other_tokenizer_dir)
    assert "\n" not in str(e.value)
    with pytest.raises(UserError, match=r"changed: shard_tokens"):
        run(corpus, out, tokenizer_dir, shard_tokens=10)
    m = run(corpus, out, other_tokenizer_dir, overwrite=True)
    assert m["tokenizer"]["vocab_size"] == 3000 and m["run"]["units_tokenized"] == m["run"]["units"]
    expected = expected_documents(corpus, other_tokenizer_dir)
    assert megatron_documents(out / m["groups"]["igakuqa"]["shards"][0]) == expected["igakuqa"]


def test_group_by_regex_and_eos_override(corpus, tokenizer_dir, tmp_path):
    out = tmp_path / "tok"
    m = run(corpus, out, tokenizer_dir, group_by=r"^(medtxt|igakuqa)", eos_id=0)
    assert set(m["groups"]) == {"medtxt", "igakuqa", "other"}  # papers_ja.jsonl does not match
    assert m["tokenizer"]["eos_id"] == 0
    docs = megatron_documents(out / m["groups"]["medtxt"]["shards"][0])
    assert all(d[-1] == 0 for d in docs) and len(docs) == m["groups"]["medtxt"]["documents"]
