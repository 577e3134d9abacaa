"""The HTML report: self-contained, escaped, deterministic, robust to empty sections."""

from __future__ import annotations

import copy
import math
import re

import pytest

from jmedcorpus.report.html import render_html_report, write_html_report

EVIL = "<script>alert(1)</script>"


def _bell(n: int, total: int, centre: float, width: float) -> list[int]:
    weights = [math.exp(-((((i + 0.5) / n - centre) / width) ** 2)) for i in range(n)]
    return [round(total * w / sum(weights)) for w in weights]


def _signal(group, edges, kept, removed, threshold=None, scale="linear"):
    return {
        "scale": scale,
        "edges": edges,
        "kept": kept,
        "removed": removed,
        "count_kept": sum(kept),
        "count_removed": sum(removed),
        "min": edges[0],
        "max": edges[-1],
        "quantiles_kept": {"p10": edges[len(edges) // 4], "p50": edges[len(edges) // 2], "p90": edges[-3]},
        "threshold": threshold,
        "group": group,
    }


def _linear(group, centre, removed_centre, threshold=None, bins=20):
    edges = [round(i / bins, 4) for i in range(bins + 1)]
    return _signal(
        group, edges, _bell(bins, 148, centre, 0.15), _bell(bins, 40, removed_centre, 0.1), threshold
    )


def _log(group, lo, hi, threshold=None, bins=24):
    edges = [round(lo * (hi / lo) ** (i / bins), 2) for i in range(bins + 1)]
    edges[0] = 0  # the first bin is a catch-all from zero
    kept, removed = _bell(bins, 148, 0.6, 0.2), _bell(bins, 60, 0.15, 0.15)
    return _signal(group, edges, kept, removed, threshold, scale="log")


def _threshold(step, lo=None, hi=None):
    return {"step": step, "min": lo, "max": hi}


def make_stats() -> dict:
    """A realistic stats dict (schema ``stats_version: 1``)."""
    steps = [
        ("normalize", "normalize", 340, 336, {"empty_after_normalize": 4}),
        ("length", "length", 336, 296, {"too_short": 32, "too_long": 8}),
        ("language", "language", 296, 256, {"lang_not_ja": 40}),
        ("hiragana_ratio", "script_ratio", 256, 251, {"hiragana_ratio_low": 5}),
        ("quality", "quality", 251, 248, {"mojibake": 2, "markup_debris": 1}),
        ("exact_dedup", "dedup_exact", 248, 151, {"dedup_exact_duplicate": 97}),
        ("minhash", "dedup_minhash", 151, 148, {"near_duplicate": 3}),
    ]
    funnel = [
        {
            "step": step,
            "use": use,
            "in": n_in,
            "out": n_out,
            "removed": n_in - n_out,
            "removed_chars": (n_in - n_out) * 420,
            "removed_mecab_tokens": (n_in - n_out) * 150,
            "reasons": reasons,
        }
        for step, use, n_in, n_out, reasons in steps
    ]
    reasons = {r: c for *_, rs in steps for r, c in rs.items()}
    signals = {
        "chars": _log("length", 10, 100000, _threshold("length", 50, 50000)),
        "mecab_tokens": _log("length", 5, 40000),
        "sentences": _log("length", 1, 2000),
        "language_score": _linear("language", 0.85, 0.3, _threshold("language", 0.65)),
        "japanese_ratio": _linear("script", 0.8, 0.2),
        "hiragana_ratio": _linear("script", 0.3, 0.02, _threshold("hiragana_ratio", 0.02)),
        "kanji_ratio": _linear("script", 0.35, 0.1),
        "ascii_ratio": _linear("script", 0.1, 0.7, _threshold("script_ratio", None, 0.5)),
        "mojibake_ratio": _linear("quality", 0.0, 0.4, _threshold("quality", None, 0.01)),
        "symbol_ratio": _linear("quality", 0.05, 0.3, _threshold("quality", 0.0, 0.25)),
        "char_ngram_repetition": _linear("repetition", 0.1, 0.6, _threshold("quality", None, 0.2)),
        "gopher_dup_line_frac": _linear("repetition", 0.05, 0.5),
        "near_duplicate_jaccard": {**_linear("dedup", 0.5, 0.9), "kept": [0] * 20, "removed": [0] * 20},
    }
    return {
        "stats_version": 1,
        "corpus": {
            "name": "ja_medical",
            "fingerprint": "ab12cd34ef56",
            "created_at": "2026-11-23T08:00:00+0000",
        },
        "counts": {
            "records_in": 340,
            "kept": 148,
            "removed": 188,
            "quarantined": 4,
            "kept_chars": 123456,
            "kept_mecab_tokens": 45678,
            "removed_chars": 9999,
            "removed_mecab_tokens": 3333,
        },
        "funnel": funnel,
        "reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "signals": signals,
        "sources": {
            "kept": {"medtxt-cr": 120, "igakuqa": 28, "医療QA": 0},
            "removed": {"pubmedqa": 40, "medtxt-cr": 130, EVIL: 18},
        },
        "document_types": {},  # an empty section
        "near_duplicate_clusters": {"clusters": 3, "removed": 3, "sizes": {"2": 2, "3": 1}},
        "terms": {
            "sample_rule": "documents whose id hash % 8 == 0",
            "sample_documents": 20,
            "nouns": [["症例", 40], ["患者", 30], ["治療", 22], ["検査", 18], ["所見", 15], ["投与", 11]],
            "medical_terms": [["肺癌", 12], ["糖尿病", 9], ["高血圧", 7], ["心筋梗塞", 4], ["CT", 3]],
        },
    }


# funnel, reasons, 12 signals with data, sources, near-dup clusters, nouns, medical terms
EXPECTED_FIGURES = 1 + 1 + 12 + 1 + 1 + 2


@pytest.fixture(scope="module")
def page() -> str:
    return render_html_report(make_stats())


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)


def test_no_external_references(page):
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page, flags=re.IGNORECASE)
    refs += [u.strip("'\" ") for u in re.findall(r"url\(([^)]*)\)", page, flags=re.IGNORECASE)]
    inline = ("#", "data:font/ttf;base64,")  # fragment links and ids; the embedded font subset
    assert refs and all(r.startswith(inline) for r in refs), [r for r in refs if not r.startswith(inline)]
    assert sum(r.startswith("data:") for r in refs) == 1
    assert "@import" not in page and "<link" not in page and "<script" not in page and "<img" not in page
    # namespace names are not fetched; apart from them (and base64 data), nothing names a URL
    assert "http" not in re.sub(r'xmlns(:\w+)?="[^"]*"|url\(data:[^)]*\)', "", page)
    assert "<!DOCTYPE svg" not in page and "<?xml" not in page


def test_one_svg_per_figure_with_text_as_paths(page):
    svgs = _svgs(page)
    assert len(svgs) == EXPECTED_FIGURES == page.count("<svg")
    for svg in svgs:
        assert "<text" not in svg and "<path" in svg
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids must be unique across inlined figures"


def test_escapes_strings_from_stats(page):
    assert EVIL not in page
    assert html_escaped(EVIL) in page


def html_escaped(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_totals_funnel_and_terms(page):
    for total in ("45,678", "123,456", "148", "340"):
        assert total in page
    for step in ("normalize", "language", "hiragana_ratio", "exact_dedup", "minhash"):
        assert f"<td>{step}</td>" in page
    assert '<td>exact_dedup</td><td>dedup_exact</td><td class="n">248</td><td class="n">151</td>' in page
    assert "dedup_exact_duplicate (97)" in page
    for term in ("肺癌", "症例", "糖尿病"):
        assert f"<td>{term}</td>" in page
    assert "min 0.02" in page and "OUT/stats/stats.json" in page


def test_empty_sections_render_no_data(page):
    assert page.count("no data") >= 2  # document types, the all-zero near_duplicate_jaccard
    for stats in ({}, {"stats_version": 1}, _emptied(make_stats())):
        empty = render_html_report(stats)
        assert "<svg" not in empty and "no data" in empty and empty.endswith("</html>\n")


def _emptied(stats: dict) -> dict:
    stats = copy.deepcopy(stats)
    stats.update(funnel=[], reasons={}, sources={"kept": {}, "removed": {}}, near_duplicate_clusters=None)
    stats.update(terms={"nouns": [], "medical_terms": []}, corpus=None, counts={})
    stats["signals"] = {n: {**s, "kept": [], "removed": [], "edges": []} for n, s in stats["signals"].items()}
    stats["signals"]["bad"] = {
        "edges": [1, "x", None],
        "kept": [1, 2],
        "scale": "log",
        "threshold": {"min": -1},
    }
    return stats


def test_deterministic_and_small(page, tmp_path):
    assert len(page.encode()) < 3_000_000
    out = tmp_path / "sub" / "report.html"
    write_html_report(make_stats(), str(out))
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left
    assert out.read_text(encoding="utf-8") == page  # deterministic: a second render, same bytes
