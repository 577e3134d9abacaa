"""One self-contained HTML page describing a built corpus, from ``OUT/stats/stats.json``.

The page fetches nothing (styles inline, figures are inline SVG with text as paths), so it
opens offline and Japanese plot labels render without Japanese fonts. Every string taken from
the stats is HTML-escaped; the stats hold no document text. Missing or empty sections render
as "no data". Rendering is deterministic: the same stats give the same bytes.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Mapping

from jmedcorpus.report import plots
from jmedcorpus.report.plots import fmt

GROUPS = [
    ("length", "Length"),
    ("language", "Language"),
    ("script", "Script ratios"),
    ("quality", "Quality"),
    ("repetition", "Repetition"),
    ("dedup", "Near-duplicates"),
]
SIGNAL_ORDER = (
    *("chars", "non_space_chars", "mecab_tokens", "sentences", "max_sentence_length", "mean_sentence_length"),
    *("language_score", "japanese_ratio", "hiragana_ratio", "katakana_ratio", "kanji_ratio", "ascii_ratio"),
    *("symbol_ratio", "digit_ratio", "markup_debris_ratio", "mojibake_ratio", "char_ngram_repetition"),
    "near_duplicate_jaccard",
)

EMBEDDED_FONT = "jmedcorpus IPAexGothic"  # the IPAexGothic subset inlined in the page (named in CSS)
CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2330; line-height: 1.45;
  font-family: "Hiragino Sans", "Noto Sans CJK JP", "Yu Gothic", "IPAexGothic", "jmedcorpus IPAexGothic", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
header, section { background: #fff; border-radius: 8px; padding: 18px 22px; margin-bottom: 18px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h1 { margin: 0 0 4px; font-size: 1.6em; } h2 { margin: 0 0 12px; font-size: 1.25em; }
h3 { margin: 18px 0 8px; font-size: 1.05em; color: #3d4556; }
.meta { color: #5b6475; font-size: .9em; } code { background: #eef0f3; padding: 0 4px; border-radius: 3px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin-top: 14px; }
.card { border: 1px solid #e2e5ea; border-radius: 6px; padding: 8px 12px; }
.card .v { font-size: 1.35em; font-weight: 700; } .card .k { color: #5b6475; font-size: .82em; }
.card.main { border-color: var(--kept); background: #eef4fc; }
nav a { margin-right: 14px; color: #2c5fa3; }
table { border-collapse: collapse; font-size: .86em; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e7e9ed; text-align: left; vertical-align: top; }
th { background: #f0f2f5; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafbfc; }
svg { max-width: 100%; height: auto; display: block; }
figure { margin: 0; } figcaption { font-size: .8em; color: #5b6475; margin-top: 2px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 14px 22px; }
.nodata { color: #8a91a0; font-style: italic; }
footer { color: #6b7384; font-size: .85em; text-align: center; padding: 8px 0 24px; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _n(value) -> str:
    return _e(fmt(value)) if value is not None else "–"


def _pct(part, whole) -> str:
    part, whole = plots._num(part), plots._num(whole)
    return f"{100 * part / whole:.1f}%" if part is not None and whole else "–"


def _dict(value) -> dict:
    return dict(value) if isinstance(value, Mapping) else {}


NO_DATA = '<p class="nodata">no data</p>'


def _figure(svg: str | None, caption: str = "") -> str:
    body = svg or NO_DATA
    return f"<figure>{body}" + (f"<figcaption>{caption}</figcaption>" if caption else "") + "</figure>"


def _chart_table(svg: str | None, table: str) -> str:
    """A chart and its table; a single "no data" when there is neither."""
    if not svg and table == NO_DATA:
        return NO_DATA
    return (_figure(svg) if svg else "") + table


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """``headers`` and cells are already-escaped HTML; columns in ``numeric`` are right-aligned."""
    if not rows:
        return NO_DATA
    cls = [' class="n"' if i in numeric else "" for i in range(len(headers))]
    head = "".join(f"<th{c}>{h}</th>" for c, h in zip(cls, headers))
    body = "".join("<tr>" + "".join(f"<td{c}>{v}</td>" for c, v in zip(cls, row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


def _header(stats: Mapping) -> str:
    corpus, counts = _dict(stats.get("corpus")), _dict(stats.get("counts"))
    name = corpus.get("name") or "corpus"
    meta = (
        f"fingerprint <code>{_e(corpus.get('fingerprint') or '–')}</code> · "
        f"created {_e(corpus.get('created_at') or '–')} · stats_version {_e(stats.get('stats_version', '–'))}"
    )
    records = counts.get("records_in")
    cards = [
        ("Kept MeCab tokens", counts.get("kept_mecab_tokens"), "main"),
        ("Kept documents", counts.get("kept"), "main"),
        ("Kept characters", counts.get("kept_chars"), "main"),
        ("Records in", records, ""),
        (f"Removed ({_pct(counts.get('removed'), records)})", counts.get("removed"), ""),
        ("Quarantined", counts.get("quarantined"), ""),
        ("Removed characters", counts.get("removed_chars"), ""),
        ("Removed MeCab tokens", counts.get("removed_mecab_tokens"), ""),
    ]
    html_cards = "".join(
        f'<div class="card {c}"><div class="v">{_n(v)}</div><div class="k">{_e(k)}</div></div>'
        for k, v, c in cards
    )
    links = [("funnel", "Funnel"), ("reasons", "Drop reasons"), ("distributions", "Distributions")]
    links += [("sources", "Sources & types"), ("near-duplicates", "Near-duplicates"), ("terms", "Terms")]
    nav = "<nav>" + "".join(f'<a href="#{a}">{t}</a>' for a, t in links) + "</nav>"
    return (
        f"<header><h1>Corpus report: {_e(name)}</h1><div class=meta>{meta}</div>"
        f'<div class="cards">{html_cards}</div><p>{nav}</p></header>'
    )


def _top_reasons(reasons, k: int = 3) -> str:
    items = sorted(_dict(reasons).items(), key=lambda kv: -(plots._num(kv[1]) or 0))[:k]
    return ", ".join(f"{_e(r)} ({_n(c)})" for r, c in items) or "–"


def _funnel(stats: Mapping) -> str:
    steps = [s for s in stats.get("funnel") or [] if isinstance(s, Mapping)]
    rows = [
        [
            _e(s.get("step", "?")),
            _e(s.get("use", "")),
            _n(s.get("in")),
            _n(s.get("out")),
            _n(s.get("removed")),
            _pct(s.get("removed"), s.get("in")),
            _n(s.get("removed_chars")),
            _n(s.get("removed_mecab_tokens")),
            _top_reasons(s.get("reasons")),
        ]
        for s in steps
    ]
    headers = ["step", "use", "in", "out", "removed", "removed %", "removed chars", "removed tokens"]
    table = _table(headers + ["top reasons"], rows, numeric={2, 3, 4, 5, 6, 7})
    return _section("funnel", "Funnel", _chart_table(plots.funnel_chart(steps), table))


def _reasons(stats: Mapping) -> str:
    reasons = _dict(stats.get("reasons"))
    total = sum(plots._num(v) or 0 for v in reasons.values())
    rows = [[_e(r), _n(c), _pct(c, total)] for r, c in reasons.items()]
    body = _chart_table(plots.reasons_chart(reasons), _table(["reason", "documents", "share"], rows, {1, 2}))
    return _section("reasons", "Drop reasons", body)


def _signal_caption(signal: Mapping) -> str:
    parts = [f"kept {_n(signal.get('count_kept'))} · removed {_n(signal.get('count_removed'))}"]
    kept = list(signal.get("kept") or [])
    if signal.get("kind") == "sparse_count" and kept and sum(kept):
        # bin 0 holds the documents with none: what a reader of a redaction count wants first
        with_any = sum(kept) - kept[0]
        parts.append(f"kept documents with ≥ 1: {_n(with_any)} ({100 * with_any / sum(kept):.1f} %)")
    if signal.get("min") is not None or signal.get("max") is not None:
        parts.append(f"range {_n(signal.get('min'))} – {_n(signal.get('max'))}")
    q = _dict(signal.get("quantiles_kept"))
    if q:
        parts.append("kept p10 / p50 / p90 = " + " / ".join(_n(q.get(k)) for k in ("p10", "p50", "p90")))
    t = _dict(signal.get("threshold"))
    bounds = [f"{k} {_n(t[k])}" for k in ("min", "max") if t.get(k) is not None]
    if t:
        when = f" (removed when {_e(t['removed_when'])})" if t.get("removed_when") else ""
        step = f"<code>{_e(t.get('step', '?'))}</code>"
        parts.append(f"threshold of step {step}: {', '.join(bounds) or 'none'}{when}")
    return " · ".join(parts)


def _distributions(stats: Mapping) -> str:
    signals = {str(k): _dict(v) for k, v in _dict(stats.get("signals")).items()}
    if not signals:
        return _section("distributions", "Distributions", NO_DATA)
    rank = {name: i for i, name in enumerate(SIGNAL_ORDER)}
    names = sorted(signals, key=lambda n: (rank.get(n, len(rank)), n))
    known = {g for g, _ in GROUPS}
    groups = GROUPS + [(g, g) for g in sorted({str(s.get("group")) for s in signals.values()} - known)]
    body = (
        "<p>Histograms of each signal over the documents that have it: kept documents "
        '<b style="color:var(--kept)">blue</b>, removed <b style="color:var(--removed)">orange</b> '
        "(stacked); dashed lines mark the recipe thresholds. The outermost bins collect values beyond "
        "the range.</p>"
    )
    for group, title in groups:
        members = [n for n in names if str(signals[n].get("group")) == group]
        if not members:
            continue
        figures = "".join(
            _figure(plots.signal_histogram(n, signals[n]), f"<b>{_e(n)}</b>: {_signal_caption(signals[n])}")
            for n in members
        )
        body += f"<h3>{_e(title)}</h3><div class=grid>{figures}</div>"
    return _section("distributions", "Distributions", body)


def _category(data, title: str, label: str) -> str:
    data = _dict(data)
    kept = {k: plots._int(v) for k, v in _dict(data.get("kept")).items()}
    removed = {k: plots._int(v) for k, v in _dict(data.get("removed")).items()}
    names = sorted(set(kept) | set(removed), key=lambda n: (-kept.get(n, 0) - removed.get(n, 0), str(n)))
    total = sum(kept.values())
    rows = [[_e(n), _n(kept.get(n, 0)), _n(removed.get(n, 0)), _pct(kept.get(n, 0), total)] for n in names]
    table = _table([label, "kept", "removed", "share of kept"], rows, {1, 2, 3})
    return f"<div><h3>{_e(title)}</h3>{_chart_table(plots.kept_removed_chart(data, title), table)}</div>"


def _sources(stats: Mapping) -> str:
    body = _category(stats.get("sources"), "Sources", "source")
    body += _category(stats.get("document_types"), "Document types", "document type")
    return _section("sources", "Sources and document types", f"<div class=grid>{body}</div>")


def _near_duplicates(stats: Mapping) -> str:
    data = _dict(stats.get("near_duplicate_clusters"))
    sizes = _dict(data.get("sizes"))
    if not data:
        return _section("near-duplicates", "Near-duplicate clusters", NO_DATA)
    summary = f"<p>{_n(data.get('clusters'))} clusters; {_n(data.get('removed'))} documents removed.</p>"
    rows = [[_e(k), _n(v)] for k, v in sorted(sizes.items(), key=lambda kv: plots._num(kv[0]) or 0)]
    table = _table(["documents per cluster", "clusters"], rows, {0, 1})
    chart = plots.cluster_sizes_chart(data)
    body = summary + (f"<div class=grid>{_figure(chart)}<div>{table}</div></div>" if chart else table)
    return _section("near-duplicates", "Near-duplicate clusters", body)


def _terms(stats: Mapping) -> str:
    terms = _dict(stats.get("terms"))
    if not terms:
        return _section("terms", "Top nouns and medical terms", NO_DATA)
    intro = (
        f"<p>Counted with MeCab over a sample: {_e(terms.get('sample_rule') or '–')} "
        f"({_n(terms.get('sample_documents'))} documents).</p>"
    )
    columns = ""
    for key, title in (("nouns", "Top nouns"), ("medical_terms", "Medical terms")):
        pairs = [p for p in terms.get(key) or [] if isinstance(p, (list, tuple)) and len(p) >= 2]
        rows = [[str(i), _e(p[0]), _n(p[1])] for i, p in enumerate(pairs[:30], 1)]
        body = _chart_table(plots.terms_chart(pairs, title), _table(["#", "term", "count"], rows, {0, 2}))
        columns += f"<div><h3>{title}</h3>{body}</div>"
    return _section("terms", "Top nouns and medical terms", f"{intro}<div class=grid>{columns}</div>")


def render_html_report(stats: dict) -> str:
    """The report page for ``stats`` (the dict of ``OUT/stats/stats.json``) as one HTML string."""
    stats = _dict(stats)
    name = _dict(stats.get("corpus")).get("name") or "corpus"
    parts = [_header(stats), _funnel(stats), _reasons(stats), _distributions(stats)]
    parts += [_sources(stats), _near_duplicates(stats), _terms(stats)]
    footer = (
        "<footer>All numbers come from <code>OUT/stats/stats.json</code> of the built corpus "
        "(<code>jmedcorpus stats OUT</code>); the report contains no document text.</footer>"
    )
    title = f"{_e(name)}: jmedcorpus report"
    body = "\n".join(parts) + f"\n{footer}"
    # Japanese in the HTML text (terms, source names) gets the glyphs it uses embedded as a font
    text = html.unescape(re.sub(r"<svg\b.*?</svg>|<[^>]*>", " ", title + body, flags=re.DOTALL))
    font = plots.font_face_css(text, EMBEDDED_FONT)
    colours = f":root {{ --kept: {plots.KEPT}; --removed: {plots.REMOVED}; }}"
    return (
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{font}{colours}{CSS}</style></head>\n"
        f"<body><main>\n{body}</main></body></html>\n"
    )


def write_html_report(stats: dict, path: str) -> None:
    """Write the report to ``path`` atomically (temporary file in the same directory, then rename)."""
    page = render_html_report(stats)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html.tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
