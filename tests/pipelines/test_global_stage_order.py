"""Global stages in any order the recipe allows account for every document: a row is removed by
one stage only, a later stage never sees what an earlier one removed, and removed rows keep
input order (the defects a review found in the batched unit task and the GlobalStep publish)."""

import json

import pyarrow.parquet as pq

from jmedcorpus.pipelines.build import BuildOptions, build
from jmedcorpus.recipe import recipe_from_dict

REPORT = "症例は70歳男性。発熱と咳嗽を主訴に来院した。胸部CTで右下葉に浸潤影を認め、肺炎と診断した。"
OTHER = "症例は45歳女性。腹痛を主訴に受診した。腹部超音波検査で胆嚢結石を認め、胆嚢炎と診断した。"
HEADER = "日本臨床症例報告誌 第12巻 第3号 2024年"


def _build(tmp_path, steps, records, **input_settings):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    recipe = recipe_from_dict({"name": "t", "steps": steps, "input": input_settings})
    out = tmp_path / "out"
    m = build(
        BuildOptions(
            inputs=[str(src)], output=str(out), recipe=recipe, workers=1, progress=False, engine="processes"
        )
    )
    c = m["counts"]
    assert c["records_in"] == c["kept"] + c["removed"] + c["quarantined"]
    return m, out


def test_a_publish_time_drop_and_a_repeated_id_of_the_same_document(tmp_path):
    # d0 (the second one) is nothing but a boilerplate line once that line is stripped: boilerplate
    # drops it at publish; the repeated-ids stage had listed it too
    records = [
        {"id": "d0", "text": f"{HEADER}\n{REPORT}"},
        {"id": "d1", "text": f"{HEADER}\n{OTHER}"},
        {"id": "d0", "text": f"{HEADER}\n短い"},
    ]
    steps = [{"use": "normalize"}, {"use": "boilerplate_lines", "min_documents": 2, "min_line_chars": 8}]
    m, out = _build(tmp_path, steps, records)
    assert m["counts"]["kept"] == 2 and m["counts"]["removed"] == 1
    removed = pq.read_table(str(out / "removed")).to_pylist()
    assert len(removed) == 1


def test_exact_dedup_after_minhash_sees_only_what_minhash_kept(tmp_path):
    records = [{"id": "a", "text": REPORT}, {"id": "b", "text": REPORT}, {"id": "c", "text": OTHER}]
    steps = [{"use": "normalize"}, {"use": "minhash_dedup"}, {"use": "exact_dedup"}]
    m, out = _build(tmp_path, steps, records)
    kept = sorted(r["id"] for r in pq.read_table(str(out / "data")).to_pylist())
    assert len(kept) == 2 and "c" in kept and m["counts"]["removed"] == 1


def test_an_oversized_document_is_removed_in_input_order(tmp_path):
    records = [
        {"id": "short", "text": "短い"},
        {"id": "huge", "text": "あ" * 5000},
        {"id": "ok", "text": REPORT},
    ]
    steps = [{"use": "normalize"}, {"use": "doc_length", "min_chars": 10, "max_chars": 1000}]
    _, out = _build(tmp_path, steps, records)
    removed = pq.read_table(str(out / "removed" / "doc_length")).to_pylist()
    assert [r["id"] for r in removed] == ["short", "huge"]
