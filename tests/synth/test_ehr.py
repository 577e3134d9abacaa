"""EHR lab-name normalization: local names found in real case-report text, the master file
(tests/data/lab_master_jlac_like.csv, written for the tests: not a real JLAC10 master),
candidates, parsing the model's answer and checking it against the master."""

from __future__ import annotations

import pytest
from conftest import DATA, read_jsonl

from jmedcorpus.constants import (
    SYNTH_MASTER_MISMATCH,
    SYNTH_MISSING_FIELD,
    SYNTH_NOT_IN_MASTER,
    SYNTH_UNPARSEABLE,
)
from jmedcorpus.errors import UserError
from jmedcorpus.synth.ehr_master import StandardMaster, parse_ehr
from jmedcorpus.synth.ehr_names import FILE_DOC_ID, local_names_in, units_from_file, units_from_passages
from jmedcorpus.synth.items import EhrItem, Rejection
from jmedcorpus.synth.passages import Passage

MASTER = DATA / "lab_master_jlac_like.csv"
REPORTS = {r["id"]: r["text"] for r in read_jsonl(DATA / "case_reports_ja.jsonl")}
AST = "3Z103000002327101"


@pytest.fixture(scope="module")
def master() -> StandardMaster:
    return StandardMaster.from_csv(str(MASTER))


@pytest.mark.parametrize(
    ("doc", "names"),
    [
        ("medtxt-cr-0001", ["AST", "ALT", "ALP", "γGTP", "IgG", "IgG4", "IgM"]),
        ("medtxt-cr-0003", ["T-Bil", "AST", "ALT", "ALP", "γ-GTP", "PT", "白血球数", "CRP"]),  # CRP3.97mg/dL
        ("medtxt-cr-0011", ["Alb", "T.Bil", "NH3", "PT"]),
        ("medtxt-cr-0000", []),  # no lab values: no names
    ],
)
def test_local_names_in_real_case_reports(doc, names):
    assert local_names_in(REPORTS[doc]) == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("体温38.5℃、血圧120/80 mmHg、脈拍 90/分", []),  # vital signs: not lab units
        ("HbA1c 6.5%、eGFR 45 mL/min/1.73m2", ["HbA1c", "eGFR"]),
        ("検査ではアルブミン 3.2 g/dL", ["アルブミン"]),  # hiragana ends a Japanese name
        ("ＡＳＴ：４５ＩＵ／Ｌ", ["AST"]),  # full width, a colon
    ],
)
def test_the_extraction_rule(text, names):
    assert local_names_in(text) == names


def test_units_are_one_per_distinct_name_with_its_first_passage():
    ps = [
        Passage("d1", 0, "AST 93U/L, ALT 94U/L", 0, 20, 10, 0.5),
        Passage("d2", 3, "AST 11U/L", 5, 15, 5, 0.5),
    ]
    units, counts = units_from_passages(ps)
    assert [(u.local_name, u.key, u.text) for u in units] == [
        ("AST", "d1#0:AST", ps[0].text),
        ("ALT", "d1#0:ALT", ps[0].text),
    ]
    assert counts == {"source": "passages", "occurrences": 3, "local_names": 2}
    assert [u.local_name for u in units_from_passages(ps, max_names=1)[0]] == ["AST"]


def test_names_from_a_file(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# 施設の検査名\nAST\n\nＡＳＴ\nT-Bil\n", encoding="utf-8")
    units, counts = units_from_file(str(path))
    assert [(u.local_name, u.doc_id, u.index, u.text) for u in units] == [
        ("AST", FILE_DOC_ID, 2, ""),
        ("T-Bil", FILE_DOC_ID, 5, ""),
    ]
    assert counts == {"source": "file", "local_names": 2}
    (tmp_path / "empty.txt").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(UserError, match="no names"):
        units_from_file(str(tmp_path / "empty.txt"))
    with pytest.raises(UserError, match="no such file"):
        units_from_file(str(tmp_path / "missing.txt"))


def test_the_test_master_reads(master):
    assert len(master) == 30 and master.entries[2].code == AST and master.entries[2].name == "AST(GOT)"
    assert all(len(e.code) == 17 for e in master.entries)  # JLAC10's length


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("3Z1,総蛋白\n3Z2\n", "utf-8", "line 2: expected code,standard name"),
        ("code,name\n3Z1,総蛋白\n3Z-1,アルブミン\n", "utf-8", "line 3: the code of line 2 again"),
        ("# only a comment\n", "utf-8", "no entries"),
    ],
)
def test_master_errors_are_one_line_naming_the_line(tmp_path, content, encoding, message):
    path = tmp_path / "m.csv"
    path.write_bytes(content.encode(encoding))
    with pytest.raises(UserError, match=message) as e:
        StandardMaster.from_csv(str(path))
    assert "\n" not in str(e.value) and "総蛋白" not in str(e.value)


def test_master_in_cp932_with_a_bom_less_header(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes("コード,標準名称,備考\n3Z101000002327101,総蛋白,血清\n".encode("cp932"))
    m = StandardMaster.from_csv(str(path))
    assert [(e.code, e.name) for e in m.entries] == [("3Z101000002327101", "総蛋白")]
    with pytest.raises(UserError, match="no such file"):
        StandardMaster.from_csv(str(tmp_path / "none.csv"))


@pytest.mark.parametrize(
    ("code", "name", "expected"),
    [
        (AST, "AST(GOT)", EhrItem("ast", AST, "AST(GOT)")),
        ("3Z103-0000-023-271-01", "ＡＳＴ（ＧＯＴ）", EhrItem("ast", AST, "AST(GOT)")),  # written differently
        (
            "3Z115000002227101",
            "グルコース",
            EhrItem("ast", "3Z115000002227101", "グルコース"),
        ),  # a name, two codes
        (AST, "ALT(GPT)", Rejection(SYNTH_MASTER_MISMATCH, "code and name of different entries")),
        ("9Z999000002327101", "AST(GOT)", Rejection(SYNTH_NOT_IN_MASTER, "code not in the master")),
        (
            AST,
            "アスパラギン酸アミノトランスフェラーゼ",
            Rejection(SYNTH_NOT_IN_MASTER, "name not in the master"),
        ),
        ("", "", Rejection(SYNTH_NOT_IN_MASTER, "no entry chosen")),
    ],
)
def test_answers_are_checked_against_the_master(master, code, name, expected):
    assert master.check("ast", code, name) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f'{{"code": "{AST}", "standard_name": "AST(GOT)"}}', (AST, "AST(GOT)")),
        (f'はい。\n```json\n{{"JLAC10コード": " {AST} ", "標準名称": "AST(GOT)"}}\n```', (AST, "AST(GOT)")),
        (f"標準名称: AST(GOT)\nコード: {AST}", (AST, "AST(GOT)")),
        ('{"code": "", "standard_name": ""}', ("", "")),  # "no match", as the prompt allows
        ('{"standard_name": "AST(GOT)"}', Rejection(SYNTH_MISSING_FIELD, "code")),
        ("該当なし", Rejection(SYNTH_UNPARSEABLE, "no JSON object and no code/name lines")),
    ],
)
def test_answers_parse(raw, expected):
    assert parse_ehr(raw) == expected


def test_candidates_are_the_closest_names_then_master_order(master):
    names = [e.name for e in master.candidates("γGTP", 3)]
    assert names[0] == "γ-GT(γ-GTP)" and len(names) == 3
    assert [e.name for e in master.candidates("転院時アンモニア", 1)] == ["アンモニア"]
    assert len(master.candidates("T-Bil", 5)) == 5  # nothing shared: still 5 to choose from
    assert master.candidates("AST", 30) == master.entries  # small master: all of it
