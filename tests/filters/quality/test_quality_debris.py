import pytest
from datatrove.data import Document

from jmedcorpus.constants import QUALITY_MARKUP_DEBRIS
from jmedcorpus.filters.quality.debris import MarkupDebrisFilter

NAV_PAGE = """ホーム > 健康コラム > 糖尿病
ログイン | 会員登録
トップページ
糖尿病の予防には適度な運動が大切です。
次の記事
前の記事
お問い合わせ
プライバシーポリシー
このサイトはCookieを使用しています。
JavaScriptを有効にしてください。
Copyright © 2023 Example Health. All Rights Reserved."""
HTML = '<div class="content"><p>糖尿病の予防には適度な運動が大切です。</p><br><a href="/next">次へ</a></div>'
URL_LIST = "参考リンク\nhttps://example.com/a/b/c?id=1234\nhttps://example.org/diabetes/prevention.html\nwww.example.net/index.html"
# MedTxt-CR medtxt-cr-0080 (start, normalized): <現症>, <血算>, "10<" are not markup
CASE_ANGLES = (
    "【症例】52歳,男性\n<現症>BH170cm,BW84kg,BT38.5℃,BP124/74mmHg,頚部リンパ節触知(母指頭大数個)\n"
    "<血算>WBC21400/μl(St1,Sg23,E7,M6,L57,A-L6%)Hb16.9g/dl,Plt15.2万\n[EBV]VCAIgM10<,EBNA10<"
)
NURSING_HOME = "有料老人ホーム入所中の85歳女性。食事摂取量が低下し、ホーム職員に付き添われて受診した。p<0.05で有意差を認めた。"
REPORT_WITH_URL = (
    "本症例は厚生労働省の重篤副作用疾患別対応マニュアルに従って対応した。発症から3日目にステロイドパルス療法を開始し、"
    "皮疹は速やかに改善した。詳細はhttps://www.mhlw.go.jp/topics/2006/11/tp1122-1.htmlを参照。"
)
EXAM_OPTIONS = "医療広告で広告可能な事項はどれか。\na. 治療の成功率\nb. 診療時間\nc. 患者の体験談\nd. PR\ne. 著名人の推薦"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (CASE_ANGLES, None),
        (NURSING_HOME, None),
        (REPORT_WITH_URL, None),
        (EXAM_OPTIONS, None),
        (NAV_PAGE, QUALITY_MARKUP_DEBRIS),
        (HTML, QUALITY_MARKUP_DEBRIS),
        (URL_LIST, QUALITY_MARKUP_DEBRIS),
    ],
)
def test_markup_debris(text, reason):
    doc = Document(text=text, id="t")
    assert MarkupDebrisFilter().filter(doc) == (True if reason is None else (False, reason))
    assert 0.0 <= doc.metadata["markup_debris_ratio"] <= 1.0


def test_clean_text_scores_zero():
    doc = Document(text=CASE_ANGLES + "\n" + NURSING_HOME, id="t")
    MarkupDebrisFilter().filter(doc)
    assert doc.metadata["markup_debris_ratio"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_ratio": 1.2}, r"max_ratio must be in \[0, 1\], got 1.2"),
        ({"max_nav_line_chars": 0}, r"max_nav_line_chars must be in \[1, 200\], got 0"),
    ],
)
def test_invalid(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MarkupDebrisFilter(**kwargs)
