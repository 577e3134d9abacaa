"""Normalization on real clinical strings: what changes and what must not."""

import pytest
from datatrove.data import Document

from jmedcorpus.text.normalize import JapaneseTextNormalizer, normalize_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        # full-width ASCII as published in MedTxt-CR case reports
        ("症例は７０歳，男性．", "症例は70歳,男性."),
        ("ＣＲＰ　１５．２ｍｇ／ｄＬ", "CRP 15.2mg/dL"),
        ("Ｓ－１　＋　ＣＤＤＰ療法", "S-1 + CDDP療法"),
        # half-width katakana with voiced marks
        ("ｶﾞｰｾﾞ交換、ﾌﾟﾚﾄﾞﾆｿﾞﾛﾝ", "ガーゼ交換、プレドニゾロン"),
        # Roman numerals, unit ligatures, temperature, micro sign
        ("Ⅱ型糖尿病", "II型糖尿病"),
        ("ロキソプロフェン60㎎、生食100㎖", "ロキソプロフェン60mg、生食100mL"),
        ("体温38.5℃", "体温38.5°C"),
        ("10µg/kg", "10μg/kg"),
        # kept on purpose: circled numbers (NFKC would make ①2回 into 12回), Japanese punctuation
        ("①2回目の投与", "①2回目の投与"),
        ("3〜5日後、リンパ節・肝臓", "3〜5日後、リンパ節・肝臓"),
        # NUL, controls, lone surrogates, line endings, whitespace
        ("血圧\x00120/80", "血圧120/80"),
        ("脈拍\x0772\ud800回/分", "脈拍72回/分"),
        ("主訴：発熱\r\n\r\n\r\n\r\n現病歴：  3日前 \t から", "主訴:発熱\n\n現病歴: 3日前 から"),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_step_records_changes_and_is_idempotent():
    step = JapaneseTextNormalizer()
    (doc,) = list(step.run(iter([Document(text="ＨｂＡ１ｃ　７．２％", id="x")])))
    assert doc.text == "HbA1c 7.2%"
    assert doc.metadata["normalize_changed_chars"] == 10
    assert normalize_text(doc.text) == doc.text
    (doc,) = list(step.run(iter([Document(text="既に正規化済み。", id="y")])))
    assert doc.metadata["normalize_changed_chars"] == 0


def test_run_rewriting_equals_translate_and_space_collapsing_is_unchanged():
    """The two speed-ups of normalize_text against the plain forms they replace."""
    import random
    import re

    from jmedcorpus.text import normalize as nz

    plain_spaces = re.compile(r"[ \t\u00A0\u2000-\u200A\u202F\u205F]+")
    pool = [chr(cp) for cp in nz._TABLE] + list(" \t\n\u3000\u00a0\u2003\u202f\u205f") * 8
    pool += list("症例はあアｶﾞﾟabc 1２") + ["\ud800", "\u3099", "\u309b", "\x00"]
    rng = random.Random(0)
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 80)))
        assert nz._MAPPED_RUN.sub(nz._translate_run, text) == text.translate(nz._TABLE)
        assert nz._SPACES.sub(" ", text) == plain_spaces.sub(" ", text)
