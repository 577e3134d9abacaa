"""The case-report guideline items (issue 16): initials, earlier hospitals, addresses below the
city, year-month kept, eponyms kept; what each must replace and what it must leave alone."""

import json

import pytest
from datatrove.data import Document

from jmedcorpus.pii import ALL_TYPES, PersonalInfoRedactor, redact
from jmedcorpus.pii import step as step_module
from jmedcorpus.pii.facilities import FACILITY_FILE
from jmedcorpus.pii.wordlists import read_word_list

INITIALS = [
    ("症例はK.Y.、45歳女性。", "症例は<NAME>、45歳女性。"),
    ("症例：Ｋ．Ｙ．，６２歳，男性．", "症例：<NAME>，６２歳，男性．"),
    ("KY氏は翌日に退院した。", "<NAME>氏は翌日に退院した。"),
    ("ＫＹさんの家族", "<NAME>さんの家族"),
    ("K.Y.さん（70歳）", "<NAME>さん（70歳）"),
    ("Ｋ・Ｙさんは", "<NAME>さんは"),
    ("患者K. Y. T.は", "患者<NAME>は"),
    ("経過は良好であった.H.K.は外来通院中である.", "経過は良好であった.<NAME>は外来通院中である."),
    ("症例KY、45歳", "症例<NAME>、45歳"),
    ("R.T（58歳，女性）", "<NAME>（58歳，女性）"),
]
NOT_INITIALS = [
    "A氏は70代男性、Bさんは家族。患者Aと症例Bを比較した。Ａ氏２０代男性",  # anonymized labels
    "CRP 15.2mg/dL、CT、MRI、IgG 1650mg/dL、HbA1c 7.2%、WBC 8,000/μL",
    "T.B. 1.2mg/dL、D.B. 0.4mg/dL、T.P. 6.8g/dL、T.B.は低下",  # dotted lab abbreviations
    "p.R123H変異、c.371G>A",
    "AIH様の所見、PBC様の組織像",  # 様 after an abbreviation: "-like"
    "GOT 52K.U.、Al-P 31.7K.A.U.、LAP480G.R.U.",  # units after a number
    "No.8aリンパ節、N.O.8aの郭清",  # a lymph-node station
    "I.C.を行い同意を得た。E. coliとS. aureusを検出。U.S.A.の報告",
]
FACILITIES = [
    ("前医の田中内科クリニックで加療", "前医の<FACILITY>で加療"),
    ("東京大学医学部附属病院より紹介", "<FACILITY>より紹介"),
    ("○○大学医学部附属病院より紹介", "<FACILITY>より紹介"),  # a mask: replacing it loses nothing
    ("〇〇市立病院に入院", "<FACILITY>に入院"),
    ("国立がん研究センター中央病院で手術", "<FACILITY>で手術"),
    ("国立がん研究センターで治療", "<FACILITY>で治療"),
    ("翌日佐々木医院を受診", "翌日<FACILITY>を受診"),  # the word before the name stays
    ("市立札幌病院", "市立<FACILITY>"),
    ("国立病院機構東京医療センター", "国立病院機構<FACILITY>"),
    ("済生会いわき病院", "済生会<FACILITY>"),  # a hiragana city
    ("ＮＴＴ東日本関東病院", "<FACILITY>"),
    ("東京大学医学部附属病院消化器内科", "<FACILITY>消化器内科"),
    ("前医のこもれびクリニックで", "前医の<FACILITY>で"),  # hiragana: found with MeCab
    ("いずみ内科医院に通院", "<FACILITY>に通院"),
]
NOT_FACILITIES = [
    "当院に入院した。近医を受診し、他院で加療。前医で精査後、同院の外来で経過観察。",
    "総合病院の救急外来を経て大学病院へ搬送され、専門病院を受診した。かかりつけ医の紹介。",
    "近医整形外科クリニック、地域の中核病院、その病院、近くの診療所、大病院、某病院",
    "A病院で加療後、B医院に通院。X病院",  # one-letter labels: the anonymized form
    "病院前救護、へき地医療拠点病院、休日診療所、救命救急センター、半年間病院を受診していない",
    "このまま病院へ向かった。そのため病院を受診。いつもの病院、かかりつけ病院、まず病院に電話",
]
ADDRESSES = [
    ("横浜市青葉区美しが丘2丁目在住", "横浜市<ADDRESS>在住"),  # a designated city's ward goes too
    ("神奈川県横浜市青葉区美しが丘2-3-4", "神奈川県横浜市<ADDRESS>"),
    ("大阪市北区在住の70歳", "大阪市<ADDRESS>在住の70歳"),
    ("東京都新宿区西新宿在住", "東京都新宿区<ADDRESS>在住"),  # a Tokyo ward is a city: kept
    ("札幌市中央区の自宅で倒れていた", "札幌市<ADDRESS>の自宅で倒れていた"),
    ("患者は美しが丘二丁目に住む", "患者は<ADDRESS>に住む"),
    ("自宅は東京都渋谷区千駄ヶ谷4丁目26-7", "自宅は東京都渋谷区<ADDRESS>"),
    ("住所：美しが丘2-3-4", "住所：<ADDRESS>"),
]
NOT_ADDRESSES = [
    "横浜市在住、東京都在住、市内在住、A市B町在住、神奈川県出身",
    "住所の変更を届け出た。住所が不明。",  # prose about addresses, no value after the label
    "a. 資産\nb. 居住地\nc. 要介護度",  # the label at the end of a line (an exam's option)
    "3-4週後、第3-4腰椎、0.5-1.0 mg",
]
DATES = [
    ("2017年2月22日に入院", "2017年2月<DATE>に入院"),
    ("2017年2月22日（水）に入院", "2017年2月<DATE>に入院"),  # the weekday would give the day
    ("2017/2/22に退院", "2017/2/<DATE>に退院"),
    ("平成29年2月22日", "平成29年2月<DATE>"),
    ("H29.2.22", "H29.2.<DATE>"),
    ("同年3月5日退院、同月7日再診", "同年3月<DATE>退院、同月<DATE>再診"),
    ("X年1月8日に転院", "X年1月<DATE>に転院"),  # an anonymized year, a real day
    ("CRP 2.1．2019年4月12日に再入院", "CRP 2.1．2019年4月<DATE>に再入院"),  # after a sentence's period
    ("1970年3月5日生まれ", "<DATE>"),  # birth dates: all of it
    ("生年月日：1970年3月5日", "生年月日：<DATE>"),
    ("昭和45年3月生", "<DATE>"),
]
NOT_DATES = ["2019年4月に再発、令和元年5月に手術", "X年Y月Z日、X+1年3月", "第3病日", "0.5-1.0 mg、1.2019"]
EPONYM_FORMS = [
    "原田氏病、橋本氏病、木村氏病",  # 氏 between
    "山田IV型ポリープ、山田Ⅱ型、山田２型",  # a numeral before 型
    "大島の分類、木村・竹本の分類",  # の before a classification
    "菊池-藤本病、Vogt-小柳-原田病、津守・稲毛式、田中・Binet式知能検査",  # joined names
    "小泉門を触知、子宮口は閉鎖、蜂巣炎、鎌形赤血球症",  # medical words UniDic tags as surnames
    "高安大動脈炎、橋本脳症、菊池病、原田病、瀬川病、葛西手術、小川培地",
]


@pytest.mark.parametrize("text,expected", INITIALS + FACILITIES + ADDRESSES + DATES)
def test_guideline_identifiers_are_replaced(text, expected):
    assert redact(text)[0] == expected


@pytest.mark.parametrize("text", NOT_INITIALS + NOT_FACILITIES + NOT_ADDRESSES + NOT_DATES + EPONYM_FORMS)
def test_guideline_precision(text):
    assert redact(text)[0] == text


@pytest.mark.parametrize("term", read_word_list("eponyms_ja.txt"))
def test_every_listed_eponym_is_kept(term):
    for sentence in (f"既往に{term}があり、", f"{term}と診断した。", f"鑑別は{term}。"):
        assert redact(sentence)[0] == sentence


def test_eponym_heads_do_not_protect_names_before_other_words():
    # 術後, 体温 start with a head's character but are not heads: the name is still redacted
    assert redact("田中術後3日目、山田体温37.5度")[0] == "<NAME>術後3日目、<NAME>体温37.5度"


def test_whole_dates_without_keep_year_month():
    assert (
        redact("2017年2月22日（水）、2017/2/22、同月7日", keep_year_month=False)[0]
        == "<DATE>、<DATE>、<DATE>"
    )


def test_fixture_documents(data_dir):
    with open(data_dir / "pii_guideline_ja.jsonl", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    assert len(records) == 4
    for r in records:
        out, counts = redact(r["text"])
        assert out == r["expected"], r["id"]
        assert {k: v for k, v in counts.items() if v} == r["counts"], r["id"]


def test_facility_count_in_metadata():
    step = PersonalInfoRedactor()
    (doc,) = list(
        step.run(iter([Document(text="前医の田中内科クリニックから東京大学医学部附属病院へ", id="f")]))
    )
    assert doc.metadata["pii_facility"] == 2 and doc.text == "前医の<FACILITY>から<FACILITY>へ"
    assert "pii_facility" in PersonalInfoRedactor.signal_fields
    only = PersonalInfoRedactor(types=["facility"])
    assert only.format("前医の田中内科クリニックで、K.Y.さん") == "前医の<FACILITY>で、K.Y.さん"


def test_docstring_table_names_every_type():
    table = step_module.__doc__.split("\n==============  ")[2]  # the table's body, after its header
    for t in ALL_TYPES:
        assert f"``{t}``" in table and f"``<{t.upper()}>``" in table


def test_facility_word_list_has_no_single_characters():
    # a single character would eat the first character of a name (大 of 大阪): see the file's header
    for entry in read_word_list(FACILITY_FILE):
        if not entry.startswith(("=", "+")):
            assert len(entry) >= 2, entry
