"""Figures of the HTML report: small matplotlib charts rendered to self-contained SVG strings.

Text is drawn as paths (``svg.fonttype = "path"``) in the IPAexGothic font shipped inside
``matplotlib_fontja``, so Japanese labels render on a machine with no Japanese font at all.
Only the SVG backend is used (``Figure.savefig``, never pyplot). Output is deterministic
(fixed ``svg.hashsalt``, no date), and every element id is prefixed with a hash of the figure
so that several figures can be inlined in one HTML page. Each function returns the ``<svg>``
element as a string, or ``None`` when there is nothing to draw.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import io
import itertools
import math
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence

KEPT = "#3a78c9"
REMOVED = "#e0663c"
INPUT = "#d5d9df"
THRESHOLD = "#1f1f1f"
TERM = "#5a9e6f"
FONT = "IPAexGothic"

_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "jmedcorpus-report",
    "font.size": 10,
    "axes.unicode_minus": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "path.simplify": True,
}


def font_path() -> str | None:
    """IPAexGothic inside ``matplotlib_fontja``, found without importing the package (its import
    changes the global rcParams); ``None`` if it is not installed."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    for location in list(spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(location, "fonts", "ipaexg.ttf")
        if os.path.exists(path):
            return path
    return None


@functools.lru_cache(maxsize=1)
def font_family() -> str:
    """Register IPAexGothic with matplotlib and return its family name (DejaVu Sans if missing)."""
    from matplotlib import font_manager

    path = font_path()
    if path is None:
        warnings.warn("matplotlib-fontja is not installed: Japanese labels in the report will not render")
        return "DejaVu Sans"
    font_manager.fontManager.addfont(path)
    return FONT


def font_face_css(text: str, family: str, limit: int = 3000) -> str:
    """An ``@font-face`` rule embedding (base64, in a data URL) an IPAexGothic subset with the CJK
    characters of ``text``, so Japanese HTML text renders without Japanese fonts; "" if none."""
    chars = sorted({c for c in text if ord(c) >= 0x2E80})[:limit]
    path = font_path()
    if not chars or path is None:
        return ""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.hinting = False
    font = TTFont(path, lazy=True, recalcTimestamp=False)  # no timestamp: deterministic bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(chars))
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'@font-face {{ font-family: "{family}"; src: url(data:font/ttf;base64,{data}) format("truetype"); }}'
    )


def _render(width: float, height: float, draw: Callable, margins: dict | None = None) -> str:
    """The SVG of ``draw(fig)``. ``margins`` (``subplots_adjust`` fractions) replace the
    constrained layout for figures of one fixed shape: measured, the layout engine was a third
    of the time of a 43-plot report."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({**_RC, "font.family": [font_family()]}):
        fig = Figure(figsize=(width, height), layout=None if margins else "constrained")
        if margins:
            fig.subplots_adjust(**margins)
        draw(fig)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and the DOCTYPE (it names an external DTD)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    svg = svg.replace(' id="', f' id="{prefix}').replace('href="#', f'href="#{prefix}')
    return svg.replace("url(#", f"url(#{prefix}")


def _num(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _int(value) -> int:
    number = _num(value)
    return int(number) if number is not None else 0


def fmt(value) -> str:
    """A number for a label: thousands separators for integers, 3 significant digits otherwise."""
    number = _num(value)
    if number is None:
        return "–"
    if number == int(number) and abs(number) >= 1:
        return f"{int(number):,}"
    return f"{number:.3g}"


def _count_axis(axis) -> None:
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    axis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _barh(ax, labels, first, second=None, colors=(KEPT, REMOVED), names=(None, None), note=None) -> None:
    """Horizontal bars, top to bottom, ``second`` stacked after ``first``; ``note(i)`` labels bar i."""
    ys = list(range(len(labels)))
    second = second or [0] * len(first)
    ax.barh(ys, first, color=colors[0], height=0.7, label=names[0])
    if any(second):
        ax.barh(ys, second, left=first, color=colors[1], height=0.7, label=names[1])
    top = max(a + b for a, b in zip(first, second)) or 1
    for y, (a, b) in enumerate(zip(first, second)):
        ax.text(a + b + top * 0.01, y, note(y) if note else f"{a + b:,}", va="center", fontsize=8.5)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, top * (1.3 if note else 1.12))
    _count_axis(ax.xaxis)
    if names[0]:
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=2)


def funnel_chart(funnel: Sequence[Mapping] | None) -> str | None:
    """Documents entering each recipe step: passed on (kept colour) and removed there."""
    rows = [r for r in funnel or [] if isinstance(r, Mapping)]
    ins, outs = [_int(r.get("in")) for r in rows], [_int(r.get("out")) for r in rows]
    if not any(ins) and not any(outs):
        return None
    gone = [max(a - b, 0) for a, b in zip(ins, outs)]

    def note(i):
        return f"{outs[i]:,} / {ins[i]:,}" + (f"  (−{gone[i]:,})" if gone[i] else "")

    def draw(fig):
        ax = fig.add_subplot()
        labels = [str(r.get("step", "?")) for r in rows]
        _barh(ax, labels, outs, gone, names=("passed on", "removed at this step"), note=note)
        ax.set_xlabel("documents (out / in)")
        ax.set_title("Documents per recipe step")

    return _render(7.6, 1.0 + 0.3 * len(rows), draw)


def reasons_chart(reasons: Mapping[str, int] | None, top: int = 15) -> str | None:
    """The most common drop reasons over all steps."""
    items = sorted(((str(k), _int(v)) for k, v in (reasons or {}).items()), key=lambda kv: -kv[1])
    items = [kv for kv in items if kv[1] > 0][:top]
    if not items:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        _barh(ax, [k for k, _ in items], [v for _, v in items], colors=(REMOVED,))
        ax.set_xlabel("documents removed")
        ax.set_title(f"Drop reasons (top {len(items)})")

    return _render(7.6, 0.9 + 0.27 * len(items), draw)


def _edges(values: Sequence[float], log: bool) -> list[float] | None:
    """Finite, increasing (and positive on a log axis) bin edges; open-ended ends are closed
    one bin-width (or ratio) beyond their neighbour."""
    edges: list[float | None] = [_num(v) for v in values]
    if log:
        edges = [e if e is not None and e > 0 else None for e in edges]
    known = [i for i, e in enumerate(edges) if e is not None]
    if len(known) < 2 or known[-1] - known[0] != len(known) - 1:
        return None
    lo, hi = known[0], known[-1]
    a, b = edges[lo], edges[lo + 1]
    for i in range(lo - 1, -1, -1):
        edges[i] = edges[i + 1] * (a / b) if log else edges[i + 1] - (b - a)
    a, b = edges[hi - 1], edges[hi]
    for i in range(hi + 1, len(edges)):
        edges[i] = edges[i - 1] * (b / a) if log else edges[i - 1] + (b - a)
    if any(y <= x for x, y in itertools.pairwise(edges)):
        return None
    return edges  # type: ignore[return-value]


def signal_histogram(name: str, signal: Mapping | None) -> str | None:
    """Histogram of one signal, kept and removed documents stacked, threshold(s) marked."""
    signal = signal or {}
    raw = list(signal.get("edges") or [])
    bins = len(raw) - 1
    kept = [_int(v) for v in list(signal.get("kept") or [])[:bins]]
    removed = [_int(v) for v in list(signal.get("removed") or [])[:bins]]
    kept += [0] * (bins - len(kept))
    removed += [0] * (bins - len(removed))
    log = signal.get("scale") == "log"
    edges = _edges(raw, log) if bins > 0 else None
    sparse = signal.get("kind") == "sparse_count"
    if sparse and bins > 0:
        # a count that is 0 on most documents (redactions): bin 0 would flatten every other bar,
        # so only documents with at least one are drawn; the caption gives the share with any
        kept[0] = removed[0] = 0
    if edges is None or sum(kept) + sum(removed) == 0:
        return None
    threshold = signal.get("threshold") or {}
    lines = [(key, _num(threshold.get(key))) for key in ("min", "max")]
    lines = [(k, v) for k, v in lines if v is not None and (v > 0 or not log)]
    # the view: the non-empty bins and one bin either side, widened to a threshold unless that
    # would more than double it (a far threshold is shown as an arrow at the edge instead)
    tr = math.log if log else float
    used = [i for i in range(bins) if kept[i] or removed[i]]
    lo, hi = edges[max(used[0] - 1, 0)], edges[min(used[-1] + 2, bins)]
    for _, value in lines:
        if min(tr(hi), tr(value)) - min(tr(lo), tr(value)) <= 2 * (tr(hi) - tr(lo)):
            lo, hi = min(lo, value), max(hi, value)
    shown = used  # the view covers them all

    def draw(fig):
        ax = fig.add_subplot()
        lefts, widths = [edges[i] for i in shown], [edges[i + 1] - edges[i] for i in shown]
        ks, rs = [kept[i] for i in shown], [removed[i] for i in shown]
        ax.bar(lefts, ks, widths, align="edge", color=KEPT, linewidth=0, label=f"kept {sum(kept):,}")
        ax.bar(
            lefts,
            rs,
            widths,
            bottom=ks,
            align="edge",
            color=REMOVED,
            linewidth=0,
            label=f"removed {sum(removed):,}",
        )
        if log:
            ax.set_xscale("log")
        pad = (hi / lo) ** 0.02 if log else (hi - lo) * 0.02
        ax.set_xlim(lo / pad if log else lo - pad, hi * pad if log else hi + pad)
        ax.set_ylim(0, max(k + r for k, r in zip(ks, rs)) * 1.2)
        for i, (key, value) in enumerate(lines):
            inside = lo <= value <= hi
            if inside:
                ax.axvline(value, color=THRESHOLD, linestyle="--", linewidth=1.1)
                # the label goes on the roomier side of its line
                right = tr(value) - tr(lo) < 0.6 * (tr(hi) - tr(lo))
                label, xy = f"{key} {fmt(value)}", (value, 1)
            else:
                right = value < lo
                label, xy = (
                    ("← " if right else "") + f"{key} {fmt(value)}" + ("" if right else " →"),
                    (0 if right else 1, 1),
                )
            ax.annotate(
                label,
                xy=xy,
                xycoords=("data" if inside else "axes fraction", "axes fraction"),
                xytext=(3 if right else -3, -1 - 10 * i),  # a second label one line lower
                textcoords="offset points",
                ha="left" if right else "right",
                va="top",
                fontsize=8.5,
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
        ax.set_xlabel(name + (" (log scale)" if log else ""))
        ax.set_ylabel("documents")
        _count_axis(ax.yaxis)
        ax.set_title(name + (" (documents with 1 or more)" if sparse else ""))
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=2, handlelength=1, columnspacing=1)

    return _render(5.0, 2.6, draw, HISTOGRAM_MARGINS)


# room for 6-digit counts and the axis label left, the tick labels and axis label below, the
# title and the legend above
HISTOGRAM_MARGINS = {"left": 0.14, "right": 0.97, "bottom": 0.2, "top": 0.78}


def kept_removed_chart(data: Mapping | None, title: str, top: int = 12) -> str | None:
    """Kept and removed documents per category (sources, document types), largest first."""
    data = data or {}
    kept = {str(k): _int(v) for k, v in (data.get("kept") or {}).items()}
    removed = {str(k): _int(v) for k, v in (data.get("removed") or {}).items()}
    names = sorted(set(kept) | set(removed), key=lambda n: (-(kept.get(n, 0) + removed.get(n, 0)), n))
    if not any(kept.values()) and not any(removed.values()):
        return None
    if len(names) > top:
        rest = names[top - 1 :]
        names = names[: top - 1] + [f"(other {len(rest)})"]
        kept[names[-1]] = sum(kept.get(n, 0) for n in rest)
        removed[names[-1]] = sum(removed.get(n, 0) for n in rest)
    ks, rs = [kept.get(n, 0) for n in names], [removed.get(n, 0) for n in names]

    def draw(fig):
        ax = fig.add_subplot()
        _barh(ax, names, ks, rs, names=("kept", "removed"), note=lambda i: f"{ks[i]:,} / {ks[i] + rs[i]:,}")
        ax.set_xlabel("documents (kept / all)")
        ax.set_title(title)

    return _render(5.6, 1.0 + 0.27 * len(names), draw)


def cluster_sizes_chart(clusters: Mapping | None) -> str | None:
    """Number of near-duplicate clusters of each size."""
    sizes = {}
    for key, value in ((clusters or {}).get("sizes") or {}).items():
        if _num(key) is not None and _int(value) > 0:
            sizes[int(_num(key))] = sizes.get(int(_num(key)), 0) + _int(value)
    if not sizes:
        return None
    keys = sorted(sizes)

    def draw(fig):
        ax = fig.add_subplot()
        xs = list(range(len(keys)))
        ax.bar(xs, [sizes[k] for k in keys], color=REMOVED, width=0.7)
        ax.set_xticks(xs, [str(k) for k in keys])
        for x, k in zip(xs, keys):
            ax.annotate(
                f"{sizes[k]:,}", (x, sizes[k]), xytext=(0, 2), textcoords="offset points", ha="center"
            )
        ax.set_ylim(0, max(sizes.values()) * 1.15)
        ax.set_xlabel("documents per cluster")
        ax.set_ylabel("clusters")
        _count_axis(ax.yaxis)
        ax.set_title("Near-duplicate cluster sizes")

    return _render(5.0, 2.4, draw)


def terms_chart(pairs: Sequence | None, title: str, top: int = 20) -> str | None:
    """Most frequent terms (Japanese labels) with their counts."""
    items = [(str(p[0]), _int(p[1])) for p in pairs or [] if isinstance(p, Sequence) and len(p) >= 2]
    items = [kv for kv in items if kv[1] > 0][:top]
    if not items:
        return None

    def draw(fig):
        ax = fig.add_subplot()
        _barh(ax, [k for k, _ in items], [v for _, v in items], colors=(TERM,))
        ax.tick_params(axis="y", labelsize=9.5)
        ax.set_xlabel("occurrences in the sample")
        ax.set_title(title)

    return _render(4.6, 0.9 + 0.25 * len(items), draw)
