"""The personal_info step: identifiers replaced, medical text untouched, counts, fail-closed."""

import json

import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from jmedcorpus.pii import PersonalInfoRedactor, mynumber_valid, redact
from jmedcorpus.text.mecab import get_tokenizer

REDACTED = [
    ("患者氏名：山田 花子", "患者氏名：<NAME>"),
    ("（担当医：鈴木一郎先生）", "（担当医：<NAME>先生）"),
    ("佐藤さんは来院した", "<NAME>さんは来院した"),
    ("外来では田中看護師が対応した", "外来では<NAME>看護師が対応した"),
    ("東京大学 山田太郎", "東京大学 <NAME>"),
    ("Ｋ．Ｓ．氏は70歳", "<NAME>氏は70歳"),
    ("連絡先 03-1234-5678", "連絡先 <PHONE>"),
    ("携帯０９０－１２３４－５６７８", "携帯<PHONE>"),
    ("TEL (03)1234-5678", "TEL <PHONE>"),
    ("TEL 03ー1234ー5678", "TEL <PHONE>"),
    ("0120-123-456まで", "<PHONE>まで"),
    ("+81-90-1234-5678", "<PHONE>"),
    ("09012345678に連絡", "<PHONE>に連絡"),
    ("e-mail: taro@example.co.jp", "e-mail: <EMAIL>"),
    ("〒160-0023 東京都新宿区西新宿1-2-3", "〒<POSTAL> 東京都新宿区<ADDRESS>"),
    ("〒１６０－００２３", "〒<POSTAL>"),
    ("大阪府大阪市北区梅田3丁目1番1号", "大阪府大阪市<ADDRESS>"),  # a designated city's ward too
    ("カルテ番号: 00123456", "カルテ番号: <ID>"),
    ("患者ID：Ａ１２３４５", "患者ID：<ID>"),
    ("病理番号 P21-1234", "病理番号 <ID>"),
    ("被保険者番号 12345678", "被保険者番号 <ID>"),
    ("マイナンバー 1234 5678 9018", "マイナンバー <MYNUMBER>"),
    ("番号123456789018を確認", "番号<MYNUMBER>を確認"),
    ("生年月日 昭和45年3月5日", "生年月日 <DATE>"),
    ("生年月日：1970年3月", "生年月日：<DATE>"),
    ("2021年4月12日に入院", "2021年4月<DATE>に入院"),  # year-month kept
    ("２０２１年４月１２日に入院", "２０２１年４月<DATE>に入院"),
    ("令和元年5月1日", "令和元年5月<DATE>"),
    ("2023/4/12に退院", "2023/4/<DATE>に退院"),
    ("2023-04-12", "2023-04-<DATE>"),
    ("H30.1.5に手術", "H30.1.<DATE>に手術"),
    ("R5.4.12", "R5.4.<DATE>"),
    ("6月4日当院入院", "6月<DATE>当院入院"),
]

UNCHANGED = [
    "バセドウ病、クローン病、川崎病、ギラン・バレー症候群、橋本病、パーキンソン病",
    "アルツハイマー型認知症。ホルネル徴候とマーフィー徴候は陰性。ヘリコバクター・ピロリ陽性",
    "ハルトマン手術を施行した。フィッシャー比は低下。グラム陰性桿菌。ネラトンカテーテル",
    "ニボルマブ、デュルバルマブ、レボフロキサシンを投与",
    "Hb 12.3 g/dL, BP 120/80mmHg, WBC 8,000/μL, CRP 15.2mg/dL",
    "ＷＢＣ　１２０００／μＬ、ＢＰ　１２０／８０ｍｍＨｇ",
    "UDCA 600 mg/日, PSL 30mg",
    "2019年に発症し、2019年4月に再発、令和元年5月に手術",
    "X年Y月Z日に入院し、X+1年3月に退院。第3病日に解熱",
    "IgG4 20.5 mg/dL、体温37.6度、第3-4腰椎、0.5-1.0 mg",
    "Ａ氏20代男性、Aさんは",
    "全体に潮紅，苔癬化を認めた",
    "ICD-10コード C34.1、TNM分類 T2aN0M0",
]


@pytest.mark.parametrize("text,expected", REDACTED)
def test_identifiers_are_replaced(text, expected):
    assert redact(text)[0] == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_medical_text_is_unchanged(text):
    assert redact(text)[0] == text


def test_my_number_check_digit():
    assert mynumber_valid("123456789018")
    assert not mynumber_valid("123456789010")
    assert mynumber_valid("000000000000")
    assert not mynumber_valid("12345678901")
    assert redact("検査値123456789010")[0] == "検査値123456789010"  # invalid check digit: kept


def test_year_month_option_and_types():
    assert redact("2019年4月に再発", keep_year_month=False)[0] == "<DATE>に再発"
    assert redact("6月4日入院", month_day=False)[0] == "6月4日入院"
    step = PersonalInfoRedactor(types=["phone"])
    assert step.format("山田花子 03-1234-5678") == "山田花子 <PHONE>"
    with pytest.raises(ValueError, match="unknown"):
        PersonalInfoRedactor(types=["phone", "ssn"])


def test_counts_in_metadata_and_no_strings():
    text = "患者氏名：山田 花子、連絡先 03-1234-5678、携帯090-1111-2222、2021年4月12日入院。"
    step = PersonalInfoRedactor()
    (doc,) = list(step.run(iter([Document(text=text, id="d")])))
    assert doc.metadata["pii_name"] == 1 and doc.metadata["pii_phone"] == 2 and doc.metadata["pii_date"] == 1
    assert set(PersonalInfoRedactor.signal_fields) <= set(doc.metadata)
    blob = json.dumps(doc.metadata, ensure_ascii=False) + json.dumps(step.stats.to_dict(), ensure_ascii=False)
    for secret in ("山田", "花子", "1234", "5678", "1111", "2222", "4月12日"):
        assert secret not in blob and secret not in doc.text


def test_real_reports_barely_change(data_dir):
    tok = get_tokenizer()
    changed = total = 0
    with open(data_dir / "pii_case_reports.jsonl", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    for text in texts:
        out, _ = redact(text)
        a, b = tok.word_tokenize(text), set(tok.word_tokenize(out))
        total += len(a)
        changed += sum(1 for t in a if t not in b)
    assert total > 500 and changed / total <= 0.005


def test_step_error_quarantines_the_document(tmp_path, monkeypatch):
    """Fail closed: a document on which the step raises is quarantined, never passed through."""
    import jmedcorpus.pii.step as pii_step
    from jmedcorpus.io.plan import plan_units
    from jmedcorpus.pipelines.unit import process_unit
    from jmedcorpus.recipe import recipe_from_dict

    real = pii_step.find_names

    def flaky(text):
        if "爆発" in text:
            raise RuntimeError("boom")
        return real(text)

    monkeypatch.setattr(pii_step, "find_names", flaky)
    src = tmp_path / "in.jsonl"
    texts = ["患者氏名：山田花子。発熱で来院した。", "山田花子さんの術後に爆発的な下痢を認めた。"]
    src.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)
        )
    )
    recipe = recipe_from_dict({"name": "t", "steps": [{"use": "normalize"}, {"use": "personal_info"}]})
    (unit,) = plan_units([str(src)], chunk_bytes=1 << 20)
    result = process_unit(unit, recipe, str(tmp_path / "u"), 1)
    assert result["kept"] == 1 and result["quarantined"] == {"step_error": 1}
    (q,) = pq.read_table(tmp_path / "u" / "quarantine.parquet").to_pylist()
    assert q["detail"] == "personal_info: RuntimeError"
    (kept,) = pq.read_table(tmp_path / "u" / "kept.parquet").to_pylist()
    assert kept["text"] == "患者氏名:<NAME>。発熱で来院した。" and kept["pii_name"] == 1
