"""Accuracy of the ``personal_info`` step (jmedcorpus.pii) on real Japanese case reports.

1. Clean reports (``../shared/data/case_reports.jsonl``, 294 MedTxt-CR reports, CC-BY-4.0; already
   anonymized, so ideally nothing changes): MeCab tokens changed (tokens of the original not in the
   output, by a diff of the token sequences), documents changed, placeholder counts by type.
2. Planted set: each report gets identifiers of every type (names, phones, e-mail, postal codes,
   addresses, My Numbers, labelled IDs, dates) inserted at realistic positions (a header, the
   case presentation, the course, an affiliation line), in raw full-width and ASCII forms, seeded.
   A planted identifier counts as removed when none of its identifying characters (digits, name
   characters, the address below the city) survive at its position in the output.

    .venv/bin/python bench/pii_accuracy.py [--data PATH] [--seed 0] [--json out.json] [--show-examples]

Removed strings are never printed unless ``--show-examples`` (a debug flag, off by default).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from jmedcorpus.pii import ALL_TYPES, redact
from jmedcorpus.text.mecab import get_tokenizer

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "case_reports.jsonl")
SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
    "山崎",
    "森",
    "池田",
    "阿部",
    "石川",
    "前田",
    "藤田",
    "小川",
    "岡田",
    "後藤",
    "長谷川",
    "村上",
    "近藤",
    "石井",
    "坂本",
    "遠藤",
    "青木",
    "藤井",
    "西村",
    "福田",
    "太田",
    "三浦",
    "岡本",
    "松田",
    "中川",
    "中野",
    "原田",
    "小野",
    "竹内",
    "金子",
    "和田",
    "中山",
    "石田",
    "上田",
    "森田",
    "原",
    "柴田",
    "酒井",
    "工藤",
    "横山",
    "宮崎",
    "宮本",
    "内田",
    "高木",
    "安藤",
    "谷口",
    "大野",
    "丸山",
    "今井",
    "河野",
    "藤原",
    "村田",
    "武田",
    "上野",
    "杉山",
    "増田",
    "小山",
    "大塚",
    "平野",
    "菅原",
    "久保",
    "松井",
    "千葉",
    "岩崎",
    "桜井",
    "木下",
    "野口",
    "松尾",
    "菊地",
    "野村",
    "新井",
]
GIVEN = [
    "太郎",
    "一郎",
    "健太",
    "翔太",
    "大輔",
    "拓也",
    "直樹",
    "健一",
    "誠",
    "浩",
    "隆",
    "博之",
    "和夫",
    "茂",
    "清",
    "花子",
    "美咲",
    "陽子",
    "恵子",
    "由美",
    "裕子",
    "明美",
    "直子",
    "優子",
    "幸子",
    "智子",
    "久美子",
    "真由美",
    "愛",
    "彩",
    "さくら",
    "陽菜",
    "結衣",
    "大翔",
    "蓮",
    "悠真",
    "春香",
    "洋子",
    "正樹",
    "修",
]
PLACES = [
    ("東京都", "新宿区", "西新宿"),
    ("東京都", "文京区", "本郷"),
    ("大阪府", "大阪市北区", "梅田"),
    ("神奈川県", "横浜市中区", "山下町"),
    ("愛知県", "名古屋市中村区", "名駅"),
    ("福岡県", "福岡市博多区", "博多駅前"),
    ("北海道", "札幌市中央区", "北一条西"),
    ("京都府", "京都市左京区", "聖護院川原町"),
    ("埼玉県", "さいたま市大宮区", "桜木町"),
    ("千葉県", "船橋市", "本町"),
]
FW = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
STRUCTURED = ("phone", "email", "postal", "mynumber", "id", "date")


def mynumber(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(11))
    total = sum(int(body[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = total % 11
    return body + str(0 if r <= 1 else 11 - r)


def plant(text: str, rng: random.Random) -> tuple[str, list[dict]]:
    """``text`` with identifiers inserted; each planted item: type, the sensitive parts."""
    items: list[dict] = []

    def w(s: str) -> str:  # half of the documents keep the journals' full-width typesetting
        return s.translate(FW) if fw else s

    fw = rng.random() < 0.5
    sn, gn = rng.choice(SURNAMES), rng.choice(GIVEN)
    dr_sn, dr_gn = rng.choice(SURNAMES), rng.choice(GIVEN)
    nurse = rng.choice(SURNAMES)
    pref, city, town = rng.choice(PLACES)
    a, b, c = rng.randint(1, 5), rng.randint(1, 30), rng.randint(1, 20)
    ph1 = f"0{rng.randint(3, 9)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    ph2 = f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    ph3 = rng.choice(
        [f"({ph1[:2]}){ph1[3:]}", f"+81-{ph2[1:]}", f"0120-{rng.randint(100, 999)}-{rng.randint(100, 999)}"]
    )
    postal = f"{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}"
    chart = f"{rng.randint(0, 99999999):08d}"
    pid = f"{rng.choice('ABCDEFGHJK')}{rng.randint(10000, 999999)}"
    mn = mynumber(rng)
    y, m, d = rng.randint(2010, 2023), rng.randint(1, 12), rng.randint(1, 28)
    era_y, bm, bd = rng.randint(20, 63), rng.randint(1, 12), rng.randint(1, 28)
    email = f"{rng.choice(['taro', 'h.sato', 'info', 'k-suzuki'])}{rng.randint(1, 99)}@{rng.choice(['example.co.jp', 'hosp.example.ac.jp', 'mail.example.jp'])}"
    dash = rng.choice(["-", "－", "ー", "‐"]) if fw else "-"
    below = rng.choice([f"{town}{a}-{b}-{c}", f"{town}{a}丁目{b}番{c}号"])
    header = (
        f"患者氏名：{sn} {gn}　生年月日：昭和{era_y}年{bm}月{bd}日　{w('ID')}：{w(pid)}\n"
        f"カルテ番号：{w(chart)}　住所：〒{w(postal)} {pref}{city}{w(below)}\n"
        f"連絡先：{w(ph1).replace('-', dash)}、携帯{w(ph2).replace('-', dash)}\n"
    )
    items += [
        {"type": "name", "parts": [sn + gn]},
        {"type": "date", "parts": [f"{era_y}年{bm}月{bd}"]},
        {"type": "id", "parts": [pid]},
        {"type": "id", "parts": [chart]},
        {"type": "postal", "parts": [postal]},
        {"type": "address", "parts": [below]},
        {"type": "phone", "parts": [ph1]},
        {"type": "phone", "parts": [ph2]},
    ]
    lines = text.split("\n")
    k = max(1, len(lines) // 2)
    mid = (
        f"{y}年{m}月{d}日に当院に入院した（担当医：{dr_sn}{dr_gn}先生）．"
        f"外来では{nurse}看護師が対応した．病理番号 {w(f'P{y % 100}-{rng.randint(100, 9999)}')}．"
    )
    items += [
        {"type": "date", "parts": [f"{y}年{m}月{d}日"]},
        {"type": "name", "parts": [dr_sn + dr_gn]},
        {"type": "name", "parts": [nurse + "看護師"]},  # one surname: check it where it was planted
        {"type": "id", "parts": ["P-" + mid.split("病理番号 ")[1].split("．")[0]]},
    ]
    fmt = rng.choice(
        [
            f"{y}/{m}/{d}",
            f"{y}-{m:02d}-{d:02d}",
            f"R{rng.randint(1, 5)}.{m}.{d}",
            f"H{rng.randint(20, 30)}.{m}.{d}",
        ]
    )
    late = f"{w(fmt)}に退院となった．{sn}さんの家族の希望で個人番号 {mn} を確認した．"
    items += [
        {"type": "date", "parts": [fmt]},
        {"type": "name", "parts": [sn + "さん"]},
        {"type": "mynumber", "parts": [mn]},
    ]
    footer = (
        f"\n連絡先：{rng.choice(['東京医科大学', '大阪大学', '京都府立医科大学', '九州大学'])}"
        f"　{dr_sn}{dr_gn}　TEL {w(ph3)}　e-mail: {email}"
    )
    items += [
        {"type": "name", "parts": [dr_sn + dr_gn]},
        {"type": "phone", "parts": [ph3]},
        {"type": "email", "parts": [email.split("@")[0]]},
    ]
    out = header + "\n".join(lines[:k] + [mid] + lines[k:] + [late]) + footer
    return out, items


def _norm(s: str) -> str:
    return s.translate({c: None for c in map(ord, " -－ー‐/.()+年月日丁目番号")}).translate(
        {0xFF10 + i: str(i) for i in range(10)} | {0xFF21 + i: chr(0x41 + i) for i in range(26)}
    )


def survived(item: dict, before: str, after: str) -> bool:
    """A planted identifier survives if its sensitive characters (digits, name) are still in the
    output as a run: the folded output contains the folded identifier."""
    out = _norm(after)
    return any(_norm(p) and _norm(p) in out for p in item["parts"])


def token_change(before: str, after: str) -> tuple[int, int]:
    tok = get_tokenizer()
    a, b = tok.word_tokenize(before), list(tok.word_tokenize(after))
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    same = sum(bl.size for bl in sm.get_matching_blocks())
    return len(a) - same, len(a)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", dest="json_path")
    ap.add_argument("--show-examples", action="store_true", help="debug: print changed/missed strings")
    args = ap.parse_args(argv)
    with open(args.data, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]

    t0 = time.time()
    changed_tokens = total_tokens = changed_docs = 0
    fired: Counter = Counter()
    for d in docs:
        out, counts = redact(d["text"])
        fired.update({k: v for k, v in counts.items() if v})
        if out != d["text"]:
            changed_docs += 1
            ct, tt = token_change(d["text"], out)
            changed_tokens += ct
            if args.show_examples:
                sm = difflib.SequenceMatcher(a=d["text"], b=out, autojunk=False)
                for op, i1, i2, j1, j2 in sm.get_opcodes():
                    if op != "equal":
                        print(
                            "clean:",
                            d["id"],
                            repr(d["text"][max(0, i1 - 15) : i2 + 15]),
                            "→",
                            repr(out[j1:j2]),
                        )
        else:
            tt = len(get_tokenizer().word_tokenize(d["text"]))
        total_tokens += tt
    clean_s = time.time() - t0
    # the same without dates: the clean reports do contain real exact dates (6月4日, 2012年5月28日)
    # that the guideline asks to remove, so the date part of the change is not a false positive
    no_date = frozenset(ALL_TYPES) - {"date"}
    changed_nodate = 0
    for d in docs:
        out, _ = redact(d["text"], no_date)
        if out != d["text"]:
            changed_nodate += token_change(d["text"], out)[0]

    rng = random.Random(args.seed)
    planted: Counter = Counter()
    removed: Counter = Counter()
    t0 = time.time()
    chars = 0
    for d in docs:
        text, items = plant(d["text"], rng)
        chars += len(text.encode("utf-8"))
        out, _ = redact(text)
        for it in items:
            planted[it["type"]] += 1
            if not survived(it, text, out):
                removed[it["type"]] += 1
            elif args.show_examples:
                print("missed:", d["id"], it["type"], it["parts"])
    planted_s = time.time() - t0

    def recall(types) -> float:
        p = sum(planted[t] for t in types)
        return removed_sum(types) / p if p else 1.0

    def removed_sum(types) -> int:
        return sum(removed[t] for t in types)

    rows = [
        {"type": t, "planted": planted[t], "removed": removed[t], "recall": recall([t])}
        for t in ALL_TYPES
        if planted[t]
    ]
    result = {
        "documents": len(docs),
        "seed": args.seed,
        "planted": rows,
        "structured_recall": recall(STRUCTURED),
        "names_addresses_recall": recall(("name", "address")),
        "clean_tokens_changed": changed_tokens,
        "clean_tokens_total": total_tokens,
        "clean_tokens_changed_pct": 100 * changed_tokens / max(1, total_tokens),
        "clean_documents_changed": changed_docs,
        "clean_tokens_changed_without_dates": changed_nodate,
        "clean_placeholders_fired": dict(fired),
        "planted_mb_per_s": chars / 1e6 / planted_s,  # UTF-8 MB
        "clean_seconds": round(clean_s, 2),
    }
    print("| type | planted | removed | recall |\n| --- | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['type']} | {r['planted']} | {r['removed']} | {100 * r['recall']:.1f} % |")
    print(
        f"| **structured** (phone, email, postal, mynumber, id, date) | {sum(planted[t] for t in STRUCTURED)} "
        f"| {removed_sum(STRUCTURED)} | {100 * result['structured_recall']:.1f} % |"
    )
    print(
        f"| **names + addresses** | {planted['name'] + planted['address']} "
        f"| {removed_sum(('name', 'address'))} | {100 * result['names_addresses_recall']:.1f} % |"
    )
    print()
    print(
        f"clean reports: {len(docs)} documents, {total_tokens} MeCab tokens; tokens changed "
        f"{changed_tokens} ({result['clean_tokens_changed_pct']:.3f} %), documents changed {changed_docs}; "
        f"placeholders fired: {dict(fired) or 'none'}; without the date type: {changed_nodate} tokens "
        f"({100 * changed_nodate / max(1, total_tokens):.3f} %)"
    )
    print(f"speed (planted set, one process): {result['planted_mb_per_s']:.2f} MB/s")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
