"""Accuracy of the ``personal_info`` step (jmedcorpus.pii) against the Japanese case-report privacy
guideline (外科関連学会協議会: no names, initials or calling names; no address below the city;
dates at most year-month; no names of hospitals that treated the patient before; no biopsy,
autopsy or image numbers).

1. **Planted set.** Each real case report (``../shared/data/case_reports.jsonl``, 294 MedTxt-CR
   reports, CC-BY-4.0) gets identifiers planted with a seeded RNG: a labelled header, course and
   footer (names, phones, e-mail, postal code, address, IDs, My Number, exact and birth dates), and
   sentences in running text inserted after random sentences of the report: initials (``症例は
   K.Y.、45歳女性``, ``KY氏``), earlier hospitals (``前医の…クリニックで``), addresses below the city
   (``…市…区…2丁目在住``), exact dates in every common form, eponyms and controls. The pools
   (:mod:`bench.pii_pools`) are separate from every example in ``tests/pii``. Half of the
   documents are typeset full-width, as the journals do. An identifier counts as removed when none
   of its leak strings (the name, the initials, the facility, the town and ward, the date with its
   day) is left in the output; a leak string already in the report before planting is not used.
   Controls that must survive: generic hospital words (当院, 近医, 総合病院, A病院), lab
   abbreviations (T.B., CRP, IgG), one-letter labels (A氏), the year-month of a non-birth date,
   the city of an address, and eponyms (高安動脈炎, 菊池病: ``eponyms intact``).
2. **Clean text**: the real case reports without planted identifiers (already anonymized) and the
   2,000 licensing-exam questions (``igakuqa_2018_2022_ja.jsonl``): replacements per 10,000
   characters by type, documents changed, MeCab tokens changed (case reports), and the eponyms of
   the pool found there, intact or not.

    .venv/bin/python bench/pii_accuracy.py [--seed 0] [--json out.json] [--show-misses]

Privacy: only ids, types and counts are printed; ``--show-misses`` adds the id, type and form of
each missed identifier, never its text.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import pii_pools as pools

from jmedcorpus.pii import redact
from jmedcorpus.text.mecab import get_tokenizer

DATA_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
REPORTS = os.path.join(DATA_DIR, "case_reports.jsonl")
EXAMS = os.path.join(DATA_DIR, "igakuqa_2018_2022_ja.jsonl")
FW = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
UNFOLD = str.maketrans({chr(c + 0xFEE0): chr(c) for c in range(0x21, 0x7F)} | {"\u3000": " "})
TYPES = ("name", "initials", "facility", "address", "date", "id", "phone", "email", "postal", "mynumber")
GOAL_RECALL = 0.95
GOAL_EPONYMS = 0.99


def norm(s: str) -> str:
    """Full-width ASCII → ASCII, every dash → ``-``, no spaces: how leak strings are compared."""
    s = s.translate(UNFOLD)
    for d in "－ー‐−–—":
        s = s.replace(d, "-")
    return s.replace(" ", "")


class Planter:
    """Plants identifiers into one report; ``items``: what was planted (type, form, leak strings),
    ``controls``: strings that must survive."""

    def __init__(self, rng: random.Random, fw: bool) -> None:
        self.rng = rng
        self.fw = fw
        self.items: list[dict] = []
        self.controls: list[tuple[str, str]] = []  # (kind, string)

    def w(self, s: str) -> str:  # the journals' full-width typesetting of ASCII
        return s.translate(FW) if self.fw else s

    def add(self, kind: str, form: str, *leaks: str) -> None:
        self.items.append({"type": kind, "form": form, "leaks": [norm(x) for x in leaks]})

    def keep(self, kind: str, s: str) -> None:
        self.controls.append((kind, s))

    # ------------------------------------------------------------ labelled: header, course, footer
    def header(self) -> str:
        rng, w = self.rng, self.w
        sn, gn = rng.choice(pools.SURNAMES), rng.choice(pools.GIVEN)
        pref, city, ward, town = rng.choice(pools.LABELLED_PLACES)
        a, b, c = rng.randint(1, 5), rng.randint(1, 30), rng.randint(1, 20)
        below = rng.choice([f"{town}{a}-{b}-{c}", f"{town}{a}丁目{b}番{c}号"])
        ph1 = f"0{rng.randint(3, 9)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        ph2 = f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        dash = rng.choice(["-", "－", "ー", "‐"]) if self.fw else "-"
        postal = f"{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}"
        chart = f"{rng.randint(0, 99999999):08d}"
        pid = f"{rng.choice('ABCDEFGHJK')}{rng.randint(10000, 999999)}"
        era_y, bm, bd = rng.randint(20, 63), rng.randint(1, 12), rng.randint(1, 28)
        self.add("name", "label 患者氏名", sn + gn)
        self.add("date", "birth labelled", f"{era_y}年{bm}月")
        self.add("id", "label ID", pid)
        self.add("id", "label カルテ番号", chart)
        self.add("postal", "〒", postal)
        self.add("address", "label 住所", below)
        self.add("phone", "label 連絡先", ph1)
        self.add("phone", "mobile", ph2)
        self.keep("city of an address", pref + city)  # (a designated city's ward goes: the guideline)
        return (
            f"患者氏名：{sn} {gn}　生年月日：昭和{era_y}年{bm}月{bd}日　{w('ID')}：{w(pid)}\n"
            f"カルテ番号：{w(chart)}　住所：〒{w(postal)} {pref}{city}{ward}{w(below)}\n"
            f"連絡先：{w(ph1).replace('-', dash)}、携帯{w(ph2).replace('-', dash)}\n"
        )

    def course(self) -> str:
        rng, w = self.rng, self.w
        y, m, d = rng.randint(2010, 2023), rng.randint(1, 12), rng.randint(1, 28)
        dr_sn, dr_gn, nurse = rng.choice(pools.SURNAMES), rng.choice(pools.GIVEN), rng.choice(pools.SURNAMES)
        path_no = f"P{y % 100}-{rng.randint(100, 9999)}"
        img_no = f"{rng.choice(['CT', 'MR', 'US'])}{rng.randint(10000, 99999)}"
        self.add("date", "年月日", f"{y}年{m}月{d}日")
        self.keep("year-month of a date", f"{y}年{m}月")
        self.add("name", "担当医：…先生", dr_sn + dr_gn)
        self.add("name", "…看護師", nurse + "看護師")  # one surname: checked where it was planted
        self.add("id", "病理番号", path_no)
        self.add("id", "画像番号", img_no)
        return (
            f"{w(str(y))}年{w(str(m))}月{w(str(d))}日に当院に入院した（担当医：{dr_sn}{dr_gn}先生）．"
            f"外来では{nurse}看護師が対応した．病理番号 {w(path_no)}，画像番号：{w(img_no)}を参照した．"
        )

    def late(self, mynumber: str) -> str:
        rng, w = self.rng, self.w
        y, m, d = rng.randint(2010, 2023), rng.randint(1, 12), rng.randint(1, 28)
        fmt, ym = rng.choice(
            [
                (f"{y}/{m}/{d}", f"{y}/{m}/"),
                (f"{y}-{m:02d}-{d:02d}", f"{y}-{m:02d}-"),
                (f"R{rng.randint(1, 5)}.{m}.{d}", None),
                (f"H{rng.randint(20, 30)}.{m}.{d}", None),
            ]
        )
        sn = rng.choice(pools.SURNAMES)
        self.add("date", "numeric " + ("slash/dash" if ym else "era letter"), fmt)
        if ym:
            self.keep("year-month of a date", ym)
        self.add("name", "…さん", sn + "さん")
        self.add("mynumber", "個人番号", mynumber)
        return f"{w(fmt)}に退院となった．{sn}さんの家族の希望で個人番号 {mynumber} を確認した．"

    def footer(self) -> str:
        rng, w = self.rng, self.w
        dr = rng.choice(pools.SURNAMES) + rng.choice(pools.GIVEN)
        ph1 = f"0{rng.randint(3, 9)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        ph = rng.choice(
            [
                f"({ph1[:2]}){ph1[3:]}",
                f"+81-{ph1[1:]}",
                f"0120-{rng.randint(100, 999)}-{rng.randint(100, 999)}",
            ]
        )
        user = f"{rng.choice(['hanako', 'k.mori', 'office', 'n-ueda'])}{rng.randint(1, 99)}"
        email = f"{user}@{rng.choice(['example.ac.jp', 'hosp.example.jp', 'mail.example.com'])}"
        self.add("name", "affiliation", dr)
        self.add("phone", "TEL", ph)
        self.add("email", "e-mail", user + "@")
        return f"\n連絡先：{rng.choice(pools.UNIVERSITIES)}　{dr}　TEL {w(ph)}　e-mail: {email}"

    # ------------------------------------------------------------ running text
    def initials(self) -> str:
        rng, w = self.rng, self.w
        a, b = rng.choices(pools.INITIAL_LETTERS, weights=pools.INITIAL_WEIGHTS, k=2)
        age, sex = rng.randint(18, 89), rng.choice(["男性", "女性"])
        dotted = rng.choice([f"{a}.{b}.", f"{a}. {b}.", f"{a}.{b}"])
        form, text, leak = rng.choice(
            [
                ("症例は…、N歳", f"症例は{w(dotted)}、{w(str(age))}歳{sex}。", dotted),
                ("症例：…，N歳", f"症例：{w(dotted)}，{w(str(age))}歳，{sex}．", dotted),
                ("…さん（N歳）", f"{w(dotted)}さん（{w(str(age))}歳{sex}）は外来を受診した．", dotted),
                ("患者…は", f"患者{w(dotted)}は経過観察となった．", dotted),
                (
                    "…（N歳",
                    f"{w(a + '.' + b + '.')}（{w(str(age))}歳，{sex}）の症例を経験した．",
                    a + "." + b + ".",
                ),
                ("KY氏", f"{w(a + b)}氏は翌日に再診した．", a + b + "氏"),
                ("…は (no context)", f"{w(a + '.' + b + '.')}は翌朝に解熱した．", a + "." + b + "."),
            ]
        )
        self.add("initials", form, leak)
        return text

    def facility(self) -> str:
        rng = self.rng
        kind, name = pools.facility(rng)
        form, template = rng.choice(pools.FACILITY_SENTENCES)
        self.add("facility", f"{form} ({kind})", name)
        return template.format(f=name)

    def address(self) -> str:
        rng, w = self.rng, self.w
        kind, pref, city, ward, town = pools.address(rng)
        n, b, c = rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 20)
        with_pref = pref if rng.random() < 0.3 else ""
        forms = [
            (
                "…丁目在住",
                f"{with_pref}{city}{ward}{town}{w(str(n))}丁目在住の{rng.randint(20, 89)}歳．",
                [town, ward],
            ),
            ("…在住 (town)", f"{with_pref}{city}{ward}{town}在住．", [town, ward]),
            (
                "…の自宅で",
                f"{city}{ward}{town}{w(f'{n}-{b}-{c}')}の自宅で倒れているところを発見された．",
                [town, ward],
            ),
            (
                "現住所は…",
                f"現住所は{pref}{city}{ward}{town}{w(str(n))}丁目{w(str(b))}番{w(str(c))}号．",
                [town, ward],
            ),
            ("town 丁目, no city", f"患者は{town}{w(str(n))}丁目に住む独居の高齢者である．", [town]),
        ]
        if ward:
            forms.append(("…区在住 (ward)", f"{city}{ward}在住．", [ward]))
        form, text, leaks = rng.choice(forms)
        self.add("address", f"{form} ({kind})", *[x for x in leaks if x])
        if "no city" not in form:
            self.keep("city of an address", city)
        return text

    def date(self) -> str:
        rng, w = self.rng, self.w
        y, m, d = rng.randint(2005, 2023), rng.randint(1, 12), rng.randint(1, 28)
        ey, era = rng.choice([(rng.randint(2, 30), "平成"), (rng.randint(2, 5), "令和")])
        wd = rng.choice("月火水木金土日")
        forms = [
            ("年月日", f"{w(str(y))}年{w(str(m))}月{w(str(d))}日", f"{y}年{m}月{d}日", f"{y}年{m}月"),
            (
                "年月日(曜)",
                f"{w(str(y))}年{w(str(m))}月{w(str(d))}日（{wd}）",
                f"{y}年{m}月{d}日",
                f"{y}年{m}月",
            ),
            (
                "和暦",
                f"{era}{w(str(ey))}年{w(str(m))}月{w(str(d))}日",
                f"{era}{ey}年{m}月{d}日",
                f"{era}{ey}年{m}月",
            ),
            ("y/m/d", w(f"{y}/{m}/{d}"), f"{y}/{m}/{d}", f"{y}/{m}/"),
            ("y.m.d", w(f"{y}.{m}.{d}"), f"{y}.{m}.{d}", f"{y}.{m}."),
            ("H/R y.m.d", w(f"{'H' if era == '平成' else 'R'}{ey}.{m}.{d}"), f"{ey}.{m}.{d}", None),
            ("同年m月d日", f"同年{w(str(m))}月{w(str(d))}日", f"同年{m}月{d}日", f"同年{m}月"),
            ("m月d日", f"{w(str(m))}月{w(str(d))}日", f"{m}月{d}日", None),
        ]
        form, surface, leak, ym = rng.choice(forms)
        self.add("date", form, leak)
        if ym:
            self.keep("year-month of a date", ym)
        return rng.choice(["{d}に当科を受診した．", "{d}より発熱を認めた．", "{d}に手術を施行した．"]).format(
            d=surface
        )

    def birth(self) -> str:
        rng, w = self.rng, self.w
        y, m, d = rng.randint(1935, 2000), rng.randint(1, 12), rng.randint(1, 28)
        self.add("date", "birth 生まれ", f"{y}年{m}月")
        return f"{w(str(y))}年{w(str(m))}月{w(str(d))}日生まれの患者．"

    def eponym_sentence(self) -> str:
        sentence = self.rng.choice(pools.EPONYM_SENTENCES).format(e=self.rng.choice(pools.EPONYMS))
        self.keep("eponym (sentence intact)", sentence)
        return sentence

    def control_sentence(self) -> str:
        kind, sentence = self.rng.choice(pools.CONTROL_SENTENCES)
        if kind == "lab abbreviation":
            sentence = self.w(sentence)
        self.keep(kind + " (sentence intact)", sentence)
        return sentence


def mynumber(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(11))
    total = sum(int(body[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = total % 11
    return body + str(0 if r <= 1 else 11 - r)


def plant(text: str, rng: random.Random) -> tuple[str, list[dict], list[tuple[str, str]]]:
    """``text`` with identifiers planted: the new text, the items, the controls."""
    p = Planter(rng, fw=rng.random() < 0.5)
    header = p.header()
    running = [p.initials(), p.initials(), p.facility(), p.facility(), p.address(), p.date(), p.date()]
    running += [
        p.birth(),
        p.eponym_sentence(),
        p.eponym_sentence(),
        p.control_sentence(),
        p.control_sentence(),
    ]
    course = p.course()
    late = p.late(mynumber(rng))
    footer = p.footer()
    # sentences of the report, each new sentence inserted after a random one
    # (not inside a full-width decimal: ３６．２)
    sentences = [s for s in re.split(r"(?<=。)|(?<=．)(?![０-９0-9])", text) if s]
    for s in running + [course]:
        sentences.insert(rng.randint(1, len(sentences)), s)
    out = header + "".join(sentences) + "\n" + late + footer
    # a leak string the report held before planting tells nothing
    for it in p.items:
        it["leaks"] = [x for x in it["leaks"] if x and x not in norm(text)]
    return out, p.items, p.controls


def token_change(before: str, after: str) -> int:
    tok = get_tokenizer()
    a, b = tok.word_tokenize(before), list(tok.word_tokenize(after))
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return len(a) - sum(bl.size for bl in sm.get_matching_blocks())


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def eponym_counts(before: str, after: str) -> tuple[int, int]:
    """Mentions of the pool's eponyms in ``before``, and how many of them ``after`` still has."""
    found = intact = 0
    for term in pools.EPONYMS:
        n = before.count(term)
        if n:
            found += n
            intact += min(n, after.count(term))
    return found, intact


def clean_metrics(docs: list[dict], with_tokens: bool) -> dict:
    chars = changed_docs = changed_tokens = total_tokens = 0
    fired: Counter = Counter()
    epo_found = epo_intact = 0
    for d in docs:
        text = d["text"]
        out, counts = redact(text)
        chars += len(text)
        fired.update({k: v for k, v in counts.items() if v})
        f, i = eponym_counts(text, out)
        epo_found += f
        epo_intact += i
        if with_tokens:
            total_tokens += len(get_tokenizer().word_tokenize(text))
        if out != text:
            changed_docs += 1
            if with_tokens:
                changed_tokens += token_change(text, out)
    total = sum(fired.values())
    result = {
        "documents": len(docs),
        "characters": chars,
        "documents_changed": changed_docs,
        "replacements": total,
        "replacements_per_10k_chars": 1e4 * total / max(1, chars),
        "replacements_by_type": dict(sorted(fired.items())),
        "per_10k_by_type": {k: round(1e4 * v / max(1, chars), 3) for k, v in sorted(fired.items())},
        "eponym_mentions": epo_found,
        "eponym_mentions_intact": epo_intact,
    }
    if with_tokens:
        result |= {
            "tokens": total_tokens,
            "tokens_changed": changed_tokens,
            "tokens_changed_pct": 100 * changed_tokens / max(1, total_tokens),
        }
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", default=REPORTS)
    ap.add_argument("--exams", default=EXAMS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", dest="json_path")
    ap.add_argument("--show-misses", action="store_true", help="ids, types and forms of missed items")
    args = ap.parse_args(argv)
    reports = read_jsonl(args.reports)
    exams = read_jsonl(args.exams)

    redact(reports[0]["text"])  # warm-up (MeCab's dictionary) before the timing
    rng = random.Random(args.seed)
    planted: Counter = Counter()
    removed: Counter = Counter()
    by_form: dict[tuple[str, str], list[int]] = {}
    ctrl_total: Counter = Counter()
    ctrl_kept: Counter = Counter()
    chars = 0
    planted_s = 0.0
    for d in reports:
        text, items, controls = plant(d["text"], rng)
        chars += len(text.encode("utf-8"))
        t0 = time.perf_counter()
        out, _ = redact(text)
        planted_s += time.perf_counter() - t0
        nout = norm(out)
        for it in items:
            if not it["leaks"]:
                continue
            gone = not any(x in nout for x in it["leaks"])
            planted[it["type"]] += 1
            removed[it["type"]] += gone
            row = by_form.setdefault((it["type"], it["form"]), [0, 0])
            row[0] += 1
            row[1] += gone
            if not gone and args.show_misses:
                print("missed:", d["id"], it["type"], it["form"])
        for kind, s in controls:
            ctrl_total[kind] += text.count(s)
            ctrl_kept[kind] += min(text.count(s), out.count(s))

    clean = {
        "case_reports": clean_metrics(reports, with_tokens=True),
        "exam_questions": clean_metrics(exams, with_tokens=False),
    }
    rows = [
        {
            "type": t,
            "planted": planted[t],
            "removed": removed[t],
            "recall": removed[t] / planted[t] if planted[t] else None,
        }
        for t in TYPES
        if planted[t]
    ]
    forms = [
        {"type": t, "form": f, "planted": n, "removed": r, "recall": r / n}
        for (t, f), (n, r) in sorted(by_form.items())
    ]
    controls = {k: {"planted": ctrl_total[k], "kept": ctrl_kept[k]} for k in sorted(ctrl_total)}
    epo = "eponym (sentence intact)"
    eponyms_found = ctrl_total[epo] + sum(c["eponym_mentions"] for c in clean.values())
    eponyms_intact = ctrl_kept[epo] + sum(c["eponym_mentions_intact"] for c in clean.values())
    result = {
        "seed": args.seed,
        "documents": len(reports),
        "planted": rows,
        "planted_by_form": forms,
        "controls": controls,
        "clean": clean,
        "eponym_mentions": eponyms_found,
        "eponym_mentions_intact": eponyms_intact,
        "planted_mb_per_s": chars / 1e6 / planted_s,
    }
    print_report(result)
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=2)
    return 0


def print_report(r: dict) -> None:
    print(f"planted set: {r['documents']} reports, seed {r['seed']}\n")
    print("| type | planted | removed | recall |\n| --- | ---: | ---: | ---: |")
    for row in r["planted"]:
        flag = "" if row["recall"] >= GOAL_RECALL else " (below the 95 % goal)"
        print(f"| {row['type']} | {row['planted']} | {row['removed']} | {100 * row['recall']:.1f} %{flag} |")
    print("\n| type | form | planted | removed | recall |\n| --- | --- | ---: | ---: | ---: |")
    for row in r["planted_by_form"]:
        print(
            f"| {row['type']} | {row['form']} | {row['planted']} | {row['removed']} | {100 * row['recall']:.1f} % |"
        )
    print("\n| must survive | planted | kept | kept % |\n| --- | ---: | ---: | ---: |")
    for kind, c in r["controls"].items():
        print(f"| {kind} | {c['planted']} | {c['kept']} | {100 * c['kept'] / max(1, c['planted']):.1f} % |")
    print()
    for name, c in r["clean"].items():
        line = (
            f"clean {name}: {c['documents']} documents, {c['characters']:,} characters; "
            f"{c['replacements']} replacements = {c['replacements_per_10k_chars']:.2f} per 10,000 characters "
            f"{c['per_10k_by_type'] or ''} (counts {c['replacements_by_type'] or 'none'}); "
            f"documents changed {c['documents_changed']}; eponym mentions intact "
            f"{c['eponym_mentions_intact']}/{c['eponym_mentions']}"
        )
        if "tokens" in c:
            line += f"; MeCab tokens changed {c['tokens_changed']}/{c['tokens']} ({c['tokens_changed_pct']:.3f} %)"
        print(line)
    share = r["eponym_mentions_intact"] / max(1, r["eponym_mentions"])
    flag = "" if share >= GOAL_EPONYMS else " (below the 99 % goal)"
    print(
        f"eponym mentions intact (planted sentences + clean text): {r['eponym_mentions_intact']}/"
        f"{r['eponym_mentions']} = {100 * share:.1f} %{flag}"
    )
    print(f"speed (redact on the planted set, one process): {r['planted_mb_per_s']:.2f} MB/s")


if __name__ == "__main__":
    raise SystemExit(main())
