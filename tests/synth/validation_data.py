"""Test data of the validation tests (test_validation, test_grounding, test_near_duplicates,
test_contamination) and the model checks' (test_answer_check, test_rubric_judge): the fixture
outputs, case-report passages and exam questions."""

from __future__ import annotations

from conftest import DATA, read_jsonl

from jmedcorpus.synth.items import ExamItem

OUTPUTS = read_jsonl(DATA / "synth_outputs.jsonl")
PASSAGES = {r["id"]: r["text"] for r in read_jsonl(DATA / "case_reports_ja.jsonl")}
IGAKUQA = read_jsonl(DATA / "igakuqa_ja.jsonl")

P_UDCA = PASSAGES["medtxt-cr-0002"]  # nivolumab cholangitis: PSL, then UDCA added
P_PTO = PASSAGES["medtxt-cr-0009"]  # intrahepatic portosystemic shunt closed by PTO


def exam(question, options, answer="a", explanation="") -> ExamItem:
    return ExamItem(question, list(options), answer, explanation)


# an item the checks are asked about: the one the UDCA passage supports, key a
UDCA_ITEM = exam(
    "胆管炎の再増悪時に追加された薬剤はどれか。",
    [
        "ウルソデオキシコール酸",
        "プレドニゾロン",
        "ミコフェノール酸モフェチル",
        "レボフロキサシン",
        "セフメタゾール",
    ],
    "a",
    "胆管炎の再増悪時にウルソデオキシコール酸が追加された。",
)
