"""Pools the planted set of ``bench/pii_accuracy.py`` draws from: surnames, given names, initials,
facilities, places, eponyms and control sentences.

Written for the benchmark, apart from the tests: no name, facility, place or initials here is one of
the examples in ``tests/pii`` (山田, 鈴木, 佐藤, 田中, 高橋, 伊藤, 渡辺, 中村, 林; 田中内科クリニック,
東京大学医学部附属病院, 横浜市青葉区美しが丘, 大阪市北区梅田 ...), so the recall measured is not the
recall of the tested strings. Common Japanese surnames and given names; real city, ward and town
names (an address needs them to be recognised as one); facility names composed from them, so
most are fictional. Eponyms: the Japanese eponyms of clinical usage, written independently of
``jmedcorpus/text/eponyms_ja.txt`` (several spellings here are not in that list).
"""

from __future__ import annotations

import random


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = _words(
    "小林 加藤 吉田 佐々木 山口 松本 井上 木村 斎藤 清水 山崎 森 池田 阿部 石川 前田 藤田 小川 岡田 "
    "後藤 長谷川 村上 近藤 石井 坂本 遠藤 青木 藤井 西村 福田 太田 三浦 岡本 松田 中川 中野 原田 "
    "小野 竹内 金子 和田 中山 石田 上田 森田 原 柴田 酒井 工藤 横山 宮崎 宮本 内田 高木 安藤 谷口 "
    "大野 丸山 今井 河野 藤原 村田 武田 上野 杉山 増田 小山 大塚 平野 菅原 久保 松井 千葉 岩崎 桜井 "
    "木下 野口 松尾 菊地 野村 新井"
)
GIVEN = _words(
    "健太 翔太 拓也 直樹 健一 誠 浩 隆 博之 和夫 茂 清 美咲 陽子 恵子 由美 裕子 明美 直子 優子 "
    "幸子 智子 久美子 真由美 愛 彩 さくら 陽菜 結衣 大翔 蓮 悠真 春香 洋子 正樹 修 光男 勝 節子 "
    "千尋"
)
UNIVERSITIES = ("北都医科大学", "南海大学", "中央臨床医科大学", "東山大学")
# the first letters of romanized Japanese names, roughly as often as they occur
INITIAL_LETTERS = list("KSTMYHNAIOFERUWGJZDB")
INITIAL_WEIGHTS = [15, 13, 12, 11, 10, 9, 8, 6, 5, 5, 3, 2, 2, 2, 2, 1, 1, 0.5, 0.5, 0.3]

# header addresses: prefecture, city, a designated city's ward, town; the part below the ward is
# the leak (as the step before issue 16 kept the ward)
LABELLED_PLACES = (
    ("宮城県", "仙台市", "宮城野区", "榴岡"),
    ("兵庫県", "神戸市", "中央区", "三宮町"),
    ("東京都", "品川区", "", "大井"),
    ("千葉県", "柏市", "", "豊四季"),
    ("広島県", "広島市", "南区", "皆実町"),
    ("静岡県", "沼津市", "", "大手町"),
    ("石川県", "金沢市", "", "広坂"),
    ("北海道", "旭川市", "", "宮下通"),
    ("福岡県", "北九州市", "小倉北区", "京町"),
    ("新潟県", "長岡市", "", "城内町"),
)
# running-text addresses: designated cities with a ward (the ward is below the city), other cities,
# Tokyo's special wards (a city)
DESIGNATED = (
    ("北海道", "札幌市", "中央区", ("宮の森", "円山西町")),
    ("宮城県", "仙台市", "青葉区", ("国分町", "一番町")),
    ("埼玉県", "さいたま市", "浦和区", ("高砂", "岸町")),
    ("千葉県", "千葉市", "美浜区", ("幕張西", "高洲")),
    ("神奈川県", "川崎市", "中原区", ("小杉町", "木月")),
    ("神奈川県", "相模原市", "南区", ("相模大野", "上鶴間")),
    ("愛知県", "名古屋市", "千種区", ("今池", "覚王山通")),
    ("京都府", "京都市", "左京区", ("下鴨", "北白川")),
    ("大阪府", "大阪市", "阿倍野区", ("阪南町", "昭和町")),
    ("兵庫県", "神戸市", "灘区", ("六甲台町", "篠原本町")),
    ("岡山県", "岡山市", "北区", ("奉還町", "津島")),
    ("福岡県", "福岡市", "早良区", ("西新", "百道")),
    ("熊本県", "熊本市", "中央区", ("水前寺", "新屋敷")),
)
CITIES = (
    ("東京都", "町田市", ("原町田", "玉川学園")),
    ("神奈川県", "藤沢市", ("辻堂", "鵠沼海岸")),
    ("長野県", "松本市", ("深志", "蟻ケ崎")),
    ("石川県", "金沢市", ("片町", "兼六町")),
    ("岡山県", "倉敷市", ("阿知", "老松町")),
    ("香川県", "高松市", ("瓦町", "番町")),
    ("沖縄県", "那覇市", ("久茂地", "首里")),
    ("茨城県", "つくば市", ("天久保", "竹園")),
    ("群馬県", "前橋市", ("千代田町", "大手町")),
)
TOKYO_WARDS = (
    ("世田谷区", ("三軒茶屋", "桜新町")),
    ("杉並区", ("高円寺南", "阿佐谷北")),
    ("練馬区", ("石神井町", "大泉学園町")),
)


def address(rng: random.Random) -> tuple[str, str, str, str, str]:
    """``(kind, prefecture, city, ward, town)``; the ward is empty outside designated cities."""
    kind = rng.choice(["designated city", "city", "Tokyo ward"])
    if kind == "designated city":
        pref, city, ward, towns = rng.choice(DESIGNATED)
        return kind, pref, city, ward, rng.choice(towns)
    if kind == "city":
        pref, city, towns = rng.choice(CITIES)
        return kind, pref, city, "", rng.choice(towns)
    city, towns = rng.choice(TOKYO_WARDS)
    return kind, "東京都", city, "", rng.choice(towns)


PLACES = _words(
    "函館 盛岡 秋田 山形 郡山 水戸 宇都宮 前橋 高崎 川越 松戸 柏 八王子 小田原 長岡 金沢 富山 福井 "
    "甲府 松本 岐阜 豊橋 大津 奈良 和歌山 姫路 鳥取 松江 倉敷 福山 呉 下関 高松 松山 高知 久留米 "
    "佐世保 大分 鹿児島 那覇 旭川 釧路 弘前 八戸 いわき 日立 沼津 四日市 一宮"
)
DEPARTMENTS = _words(
    "内科 整形外科 皮膚科 眼科 耳鼻咽喉科 小児科 循環器内科 消化器内科 脳神経外科 泌尿器科 胃腸科 "
    "レディース 心療内科 ペイン"
)
KATAKANA_NAMES = ("セントラル", "グリーンヒル", "ハーバー", "サンライズ", "リバーサイド")
HIRAGANA_NAMES = ("ひまわり", "あおぞら", "すずらん", "たんぽぽ")


def facility(rng: random.Random) -> tuple[str, str]:
    """``(kind, name)`` of a facility, mostly fictional, built from the pools."""
    sn, place = rng.choice(SURNAMES), rng.choice(PLACES)
    kind = rng.choices(
        [
            "surname clinic",
            "surname hospital",
            "public",
            "university",
            "organisation",
            "katakana",
            "hiragana",
        ],
        weights=[25, 15, 25, 15, 10, 6, 4],
    )[0]
    if kind == "surname clinic":
        return kind, f"{sn}{rng.choice(DEPARTMENTS)}クリニック"
    if kind == "surname hospital":
        return kind, f"{sn}{rng.choice(['医院', '病院', '診療所', '内科医院', '整形外科医院', '記念病院'])}"
    if kind == "public":
        suffix = [
            "市立病院",
            "市民病院",
            "県立中央病院",
            "赤十字病院",
            "中央病院",
            "総合病院",
            "労災病院",
            "医療センター",
        ]
        return kind, f"{place}{rng.choice(suffix)}"
    if kind == "university":
        return (
            kind,
            f"{place}{rng.choice(['大学医学部附属病院', '大学病院', '医科大学附属病院', '大学医学部付属病院'])}",
        )
    if kind == "organisation":
        return kind, rng.choice(
            [f"国立病院機構{place}医療センター", f"済生会{place}病院", f"{place}協立病院"]
        )
    if kind == "katakana":
        return kind, f"{rng.choice(KATAKANA_NAMES)}{rng.choice(['クリニック', '病院'])}"
    return kind, f"{rng.choice(HIRAGANA_NAMES)}{rng.choice(['クリニック', '診療所'])}"


FACILITY_SENTENCES = (
    ("前医の…で", "前医の{f}で加療されていた．"),
    ("…より紹介", "{f}より紹介され当科を受診した．"),
    ("…に入院", "{f}に入院し保存的治療を受けた．"),
    ("近医（…）", "近医（{f}）で経過観察されていた．"),
    ("…で手術", "{f}で手術を受けた既往がある．"),
    ("…へ転院", "リハビリテーション目的に{f}へ転院となった．"),
    ("…整形外科", "{f}整形外科で加療中であった．"),
)

EPONYMS = _words(
    "高安動脈炎 高安病 高安大動脈炎 川崎病 川崎病性冠動脈瘤 橋本病 橋本甲状腺炎 橋本氏病 橋本脳症 菊池病 "
    "菊池・藤本病 原田病 原田氏病 フォークト・小柳・原田病 木村病 木村氏病 瀬川病 福山型先天性筋ジストロフィー "
    "福山型筋ジストロフィー 三好型ミオパチー 中條・西村症候群 大田原症候群 平山病 垂井病 里吉症候群 "
    "那須・ハコラ病 高月病 クロウ・深瀬症候群 小口病 高原病 太田母斑 伊藤母斑 伊東細胞 田原結節 志賀毒素 "
    "志賀毒素産生性大腸菌 泉熱 宮崎肺吸虫症 横川吸虫症 小川培地 吉田肉腫 片山病 大原病 木村・竹本分類 "
    "山田Ⅲ型ポリープ 山田IV型 工藤分類 佐野分類 井上分類 有馬分類 鈴木分類 大島分類 浜田分類 島田分類 "
    "野口分類 改訂長谷川式簡易知能評価スケール 長谷川式 柳原法 石原式色覚検査表 田中ビネー知能検査 "
    "遠城寺式乳幼児分析的発達検査 津守・稲毛式 葛西手術 岡林術式 今永法 杉浦手術 平林式椎弓形成術 黒川法 "
    "杉岡式 杉田クリップ 森田療法 山中因子"
)
EPONYM_SENTENCES = (
    "既往歴に{e}がある．",
    "{e}と診断された．",
    "鑑別診断として{e}が挙げられた．",
    "{e}の所見は認めなかった．",
)

# (kind, sentence): sentences that must come out unchanged
CONTROL_SENTENCES = (
    ("generic hospital word", "当院では近医と連携し，他院からの紹介も受けている．"),
    ("generic hospital word", "総合病院の救急外来を経て大学病院へ搬送された．"),
    ("generic hospital word", "地域の中核病院で精査されたが診断に至らなかった．"),
    ("generic hospital word", "かかりつけ医の紹介で専門病院を受診した．"),
    ("generic hospital word", "近医内科クリニックで降圧薬を処方されていた．"),
    ("generic hospital word", "前医で精査後，同院の外来で経過をみていた．"),
    ("one-letter label", "B病院で加療後，C医院に通院していた．"),
    ("one-letter label", "A氏の妻（B氏）が付き添っていた．"),
    ("lab abbreviation", "T.B. 2.3mg/dL，T.P. 6.1g/dL，CRP 8.2mg/dL，IgG 1820mg/dL，HbA1c 7.2%．"),
    ("lab abbreviation", "CT，MRIでは異常を認めず，I.C.の上で経過観察とした．"),
    ("lab abbreviation", "遺伝子検査でp.G12D変異を認め，PBC様の所見であった．"),
)
