"""The per-unit task body, without Ray: fail-closed step errors and exact accounting."""

import json

import pyarrow.parquet as pq
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.io.plan import plan_units
from jmedcorpus.pipelines.unit import process_unit
from jmedcorpus.recipe import recipe_from_dict
from jmedcorpus.registry import register_step


@register_step("test_explodes_on_marker")
class ExplodesOnMarker(BaseFilter):
    """Test-only step: raises on documents containing 爆発 (a bug in a step, say)."""

    name = "explodes"

    def __init__(self, *, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)

    def filter(self, doc):
        if "爆発" in doc.text:
            raise ZeroDivisionError("boom")
        return True


def test_step_error_quarantines_only_that_document(tmp_path):
    src = tmp_path / "in.jsonl"
    texts = [
        "症例は70歳男性。発熱で来院した。",
        "術後に爆発的な下痢を認めた。",
        "胸部CTで右肺上葉に結節影を認める。",
    ]
    src.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)
        )
    )
    recipe = recipe_from_dict(
        {"name": "t", "steps": [{"use": "normalize"}, {"use": "test_explodes_on_marker"}, {"use": "mecab"}]}
    )
    (unit,) = plan_units([str(src)], chunk_bytes=1 << 20)
    result = process_unit(unit, recipe, str(tmp_path / "u"), 1)
    assert result["kept"] == 2 and result["quarantined"] == {"step_error": 1}
    assert result["steps"]["test_explodes_on_marker"] == {"in": 3, "out": 2, "errors": 1, "reasons": {}}
    (q,) = pq.read_table(tmp_path / "u" / "quarantine.parquet").to_pylist()
    assert q["detail"] == "test_explodes_on_marker: ZeroDivisionError"  # type only, never the message or text
    assert json.loads(q["raw"])["text"] == texts[1]  # the original record is kept: nothing is lost
    assert [r["id"] for r in pq.read_table(tmp_path / "u" / "kept.parquet").to_pylist()] == ["d0", "d2"]
