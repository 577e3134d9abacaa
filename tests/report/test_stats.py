"""Statistics collected during the build equal those recomputed from the output; the summary,
``--json``, ``--recompute --save`` and the dataset card."""

from __future__ import annotations

import json
import os
import shutil

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import read_jsonl

from jmedcorpus.cli import main
from jmedcorpus.pipelines.build import BuildOptions, build
from jmedcorpus.recipe import load_recipe
from jmedcorpus.report.stats_files import STATS_FILE, load_stats, recompute

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def built(ray_local, data_dir, tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in ("case_reports_ja.jsonl", "igakuqa_ja.jsonl", "pubmedqa_en.jsonl"):
        shutil.copy(data_dir / name, src / name)
    report = read_jsonl(data_dir / "case_reports_ja.jsonl")[3]
    text = report["text"]
    near = dict(report, id="near-copy", text=text[:60] + "（再掲）" + text[60:] + "\n以上、再掲した。")
    with open(src / "near.jsonl", "w", encoding="utf-8") as f:
        f.write(json.dumps(near, ensure_ascii=False) + "\n")
    out = tmp_path_factory.mktemp("out") / "out"
    recipe = load_recipe()
    recipe.input.chunk_mb = 0.01  # several units: the build's stats are merged from several partials
    recipe.output.stats_term_sample = 2  # a few of the 20 fixture documents
    manifest = build(BuildOptions([str(src)], str(out), recipe, workers=2, progress=False))
    return out, manifest


def test_build_stats_equal_stats_recomputed_from_the_output(built):
    out, _ = built
    with open(out / STATS_FILE, encoding="utf-8") as f:
        collected = json.load(f)
    assert collected == recompute(str(out))


def test_stats_agree_with_the_manifest(built):
    out, manifest = built
    stats = load_stats(str(out))
    c, m = stats["counts"], manifest["counts"]
    assert (c["kept"], c["removed"], c["quarantined"]) == (m["kept"], m["removed"], m["quarantined"])
    assert (c["kept_chars"], c["kept_mecab_tokens"]) == (m["kept_chars"], m["kept_mecab_tokens"])
    assert [s["step"] for s in stats["funnel"]] == [s["name"] for s in manifest["steps"]]
    assert stats["reasons"]["lang_not_ja"] > 0 and stats["reasons"]["dedup_near_duplicate"] >= 1
    chars = stats["signals"]["chars"]
    assert chars["count_kept"] == c["kept"] and chars["scale"] == "log"
    hira = stats["signals"]["hiragana_ratio"]
    assert hira["threshold"]["min"] == 0.02 and len(hira["edges"]) == len(hira["kept"]) + 1
    assert stats["signals"]["language_score"]["count_removed"] > 0  # English documents, before the drop
    assert stats["near_duplicate_clusters"]["clusters"] >= 1
    assert stats["document_types"]["kept"]["exam_question"] > 0
    assert stats["document_types"]["kept"]["case_report"] > 0
    assert stats["terms"]["sample_documents"] > 0 and stats["terms"]["nouns"]
    assert isinstance(stats["redactions"], dict)  # personal_info's placeholder counts, by type
    # kinds declared by the steps: medical_density is a share of words (binned on [0, 1], so its
    # median is not the top bin of a count axis), pii_* are sparse counts on integer bins
    density = stats["signals"]["medical_density"]
    assert density["kind"] == "ratio" and density["scale"] == "linear" and density["edges"][-1] == 1.0
    assert 0 < density["quantiles_kept"]["p50"] < 1
    pii = stats["signals"]["pii_name"]
    assert pii["kind"] == "sparse_count" and pii["edges"][:3] == [0.0, 1.0, 2.0]
    # integer bins: a quantile is the bin's value, not its upper edge (most documents have none)
    assert pii["quantiles_kept"]["p50"] == 0.0


def test_a_sparse_count_plot_draws_only_documents_with_any():
    from jmedcorpus.report import plots

    edges = list(range(51))
    signal = {
        "kind": "sparse_count",
        "scale": "linear",
        "edges": edges,
        "kept": [900, 60, 30, 10],
        "removed": [],
    }
    svg = plots.signal_histogram("pii_date", signal)
    assert "kept 100" in svg and "kept 1,000" not in svg  # the 900 with none are in the caption
    assert plots.signal_histogram("pii_date", {**signal, "kept": [900]}) is None


def test_every_numeric_signal_has_a_known_kind():
    from jmedcorpus.registry import declared_signal_kinds, registered_steps
    from jmedcorpus.report.stats import kind_of

    kinds = {"ratio", "score", "count", "sparse_count"}
    assert set(declared_signal_kinds().values()) <= kinds
    for cls in registered_steps().values():
        declared = getattr(cls, "signal_kinds", {})
        assert set(declared) <= set(getattr(cls, "signal_fields", {})), cls.__name__  # no stale names
        for name, arrow in getattr(cls, "signal_fields", {}).items():
            if arrow != "string":
                assert kind_of(name) in kinds


def test_inspect_knows_what_every_signal_writing_step_measured():
    """The five steps the hand-kept table of inspect --id lacked, now read from the classes."""
    from jmedcorpus.report.thresholds import measured_by

    for use, signal in (("medical_density", "medical_density"), ("personal_info", "pii_name"),
                        ("license", "license"), ("decontaminate", "decontam_fraction"),
                        ("paper_sections", "sections_removed_chars")):  # fmt: skip
        assert signal in measured_by(use), use


def test_a_sparse_count_caption_gives_the_share_with_any():
    from jmedcorpus.report.html import _signal_caption

    caption = _signal_caption(
        {"kind": "sparse_count", "kept": [90, 8, 2], "count_kept": 100, "count_removed": 0}
    )
    assert "with ≥ 1: 10 (10.0 %)" in caption


def test_stats_hold_no_document_text(built, data_dir):
    out, _ = built
    dump = (out / STATS_FILE).read_text(encoding="utf-8") + (out / "README.md").read_text(encoding="utf-8")
    for doc in read_jsonl(data_dir / "case_reports_ja.jsonl"):
        text = doc["text"]
        assert not any(text[i : i + 25] in dump for i in range(0, max(1, len(text) - 25), 25))


def test_cli_summary_json_and_recompute_save(built, tmp_path, capsys):
    out, manifest = built
    assert main(["stats", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (
        "minhash_dedup" in printed and f"{manifest['counts']['kept_mecab_tokens']:,} MeCab tokens" in printed
    )
    assert main(["stats", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == load_stats(str(out))
    copy = tmp_path / "older"
    shutil.copytree(out, copy)
    os.remove(copy / STATS_FILE)
    os.remove(copy / "README.md")
    assert main(["stats", str(copy), "--recompute", "--save", "--json"]) == 0
    capsys.readouterr()
    assert load_stats(str(copy)) == load_stats(str(out))
    assert (copy / "README.md").read_text(encoding="utf-8") == (out / "README.md").read_text(encoding="utf-8")
    assert main(["stats", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_dataset_card_is_hugging_face_format(built):
    out, manifest = built
    card = (out / "README.md").read_text(encoding="utf-8")
    _, front, body = card.split("---", 2)
    meta = yaml.safe_load(front)
    assert meta["language"] == ["ja"] and meta["size_categories"] == ["n<1K"]
    assert meta["configs"][0]["data_files"][0]["path"] == "data/train-*.parquet"
    assert f"**{manifest['counts']['kept']:,} documents" in body
    assert pq.read_table(str(out / "data")).num_rows == manifest["counts"]["kept"]


def _add_kept_row_by_row(part: dict, table, term_sample: int) -> None:
    """The per-row counting add_kept replaced: the reference its column-wise version must equal."""
    from jmedcorpus.report.stats import _NOT_SIGNALS, _add_document, _add_values

    signal_cols = [c for c in table.column_names if c not in _NOT_SIGNALS]
    values: dict[str, list] = {}
    for row in table.to_pylist():
        part["kept"]["documents"] += 1
        part["kept"]["chars"] += int(row.get("chars") or len(row["text"] or ""))
        part["kept"]["mecab_tokens"] += int(row.get("mecab_tokens") or 0)
        for c in signal_cols:
            if c.startswith("pii_") and row[c]:
                part["redactions"][c[4:]] = part["redactions"].get(c[4:], 0) + int(row[c])
        signals = {c: row[c] for c in signal_cols}
        _add_document(part, "kept", row["id"], row["text"], row.get("source"), signals, values, term_sample)
    for name, vals in values.items():
        _add_values(part, "kept", name, vals)


def test_column_wise_add_kept_counts_like_row_by_row(built):
    """add_kept on real shards (null signals, pii counts), and on rows with a null or 0 ``chars``,
    an empty text and a null source, gives the partial the row-by-row count gave."""
    import pyarrow as pa

    from jmedcorpus.report.stats import add_kept, empty_partial

    out, _ = built
    table = pq.read_table(next((out / "data").glob("*.parquet")))
    odd = table.slice(0, 3).to_pylist()
    odd[0]["chars"], odd[1]["chars"], odd[2]["text"], odd[2]["source"] = None, 0, "", None
    table = pa.concat_tables([table, pa.Table.from_pylist(odd, schema=table.schema)])
    expected, got = empty_partial(), empty_partial()
    _add_kept_row_by_row(expected, table, 2)
    add_kept(got, table, 2)
    assert got == expected
    assert got["terms"]["documents"] > 0 and got["redactions"]


def test_sentence_count_equals_the_number_of_spans(data_dir):
    from jmedcorpus.text.sentences import sentence_count, sentence_spans

    texts = [r["text"] for r in read_jsonl(data_dir / "case_reports_ja.jsonl")]
    texts += [r["text"] for r in read_jsonl(data_dir / "igakuqa_ja.jsonl")]
    texts += ["", " \n ", "。。\n\u3000\n", "a. 1.5 mg\nb. 2", "終わり。」 次"]
    assert [sentence_count(t) for t in texts] == [len(sentence_spans(t)) for t in texts]
