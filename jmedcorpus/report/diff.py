"""Character-level differences between two documents (a near-duplicate and the document kept
instead), bounded for long texts, rendered inline, one above the other, or in two columns.

Deletions (in the kept text, not in the removed one) are red, insertions green; without colour
they are ``[-…-]`` and ``{+…+}`` (wdiff's markers).
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

RED, GREEN, DIM, RESET = "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m"
MARKERS = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}
COLORS = {"delete": RED, "insert": GREEN}
#: character-level diff only on stretches up to this long (SequenceMatcher is quadratic)
MAX_CHAR_DIFF = 2000
#: total characters diffed at character level per pair; beyond, changed segments stay whole
MAX_TOTAL_CHAR_DIFF = 50_000
_SEGMENT = re.compile(r"[^。．！？!?\n]*(?:[。．！？!?\n]+|$)")


def _segments(text: str) -> list[str]:
    return [s for s in _SEGMENT.findall(text) if s]


def _char_ops(a: str, b: str, i0: int, j0: int) -> list[tuple[str, int, int, int, int]]:
    sm = SequenceMatcher(None, a, b, autojunk=False)
    return [(op, i1 + i0, i2 + i0, j1 + j0, j2 + j0) for op, i1, i2, j1, j2 in sm.get_opcodes()]


def diff_ops(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """``SequenceMatcher.get_opcodes()``-style ``(op, i1, i2, j1, j2)`` from ``a`` to ``b``, at the
    character level (autojunk off). Long texts are first trimmed of their common prefix and
    suffix, then aligned by sentence-like segments; only changed stretches up to
    ``MAX_CHAR_DIFF`` characters are refined to characters.

    >>> diff_ops("症例は70歳,男性.", "症例は71歳,男性.")
    [('equal', 0, 4, 0, 4), ('replace', 4, 5, 4, 5), ('equal', 5, 10, 5, 10)]
    """
    p = 0
    while p < len(a) and p < len(b) and a[p] == b[p]:
        p += 1
    s = 0
    while s < len(a) - p and s < len(b) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    am, bm = a[p : len(a) - s], b[p : len(b) - s]
    if not am and not bm:
        middle = []
    elif len(am) <= MAX_CHAR_DIFF and len(bm) <= MAX_CHAR_DIFF:
        middle = _char_ops(am, bm, p, p)
    else:
        middle = _segment_ops(am, bm, p)
    ops = ([("equal", 0, p, 0, p)] if p else []) + middle
    if s:
        ops.append(("equal", len(a) - s, len(a), len(b) - s, len(b)))
    return _merge(ops)


def _segment_ops(a: str, b: str, p: int) -> list[tuple[str, int, int, int, int]]:
    sa, sb = _segments(a), _segments(b)
    oa = [0]
    for seg in sa:
        oa.append(oa[-1] + len(seg))
    ob = [0]
    for seg in sb:
        ob.append(ob[-1] + len(seg))
    budget = MAX_TOTAL_CHAR_DIFF
    ops = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, sa, sb, autojunk=False).get_opcodes():
        ca1, ca2, cb1, cb2 = oa[i1] + p, oa[i2] + p, ob[j1] + p, ob[j2] + p
        n = (ca2 - ca1) + (cb2 - cb1)
        if op == "replace" and max(ca2 - ca1, cb2 - cb1) <= MAX_CHAR_DIFF and n <= budget:
            budget -= n
            ops += _char_ops(a[ca1 - p : ca2 - p], b[cb1 - p : cb2 - p], ca1, cb1)
        else:
            ops.append((op, ca1, ca2, cb1, cb2))
    return ops


def _merge(ops):
    merged = []
    for op in ops:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if merged and merged[-1][0] == op[0] == "equal":
            last = merged.pop()
            op = ("equal", last[1], op[2], last[3], op[4])
        merged.append(op)
    return merged


def changes(a: str, b: str, ops=None) -> list[dict]:
    """The non-equal ops as JSON-ready dicts: ``op`` (replace/delete/insert), the spans in the
    kept (``a``) and removed (``b``) texts, and the fragments.

    >>> changes("abcd", "abxd")
    [{'op': 'replace', 'kept_span': [2, 3], 'removed_span': [2, 3], 'kept': 'c', 'removed': 'x'}]
    """
    ops = diff_ops(a, b) if ops is None else ops
    return [
        {"op": op, "kept_span": [i1, i2], "removed_span": [j1, j2], "kept": a[i1:i2], "removed": b[j1:j2]}
        for op, i1, i2, j1, j2 in ops
        if op != "equal"
    ]


# --- rendering ---------------------------------------------------------------------------------
# A side is a list of (text, kind) segments, kind in {"equal", "delete", "insert", "skip"}.


def _cut(text: str, first: bool, last: bool, context: int | None) -> list[tuple[str, str]]:
    if context is None or len(text) <= 2 * context + 20:
        return [(text, "equal")]
    head = "" if first else text[:context]
    tail = "" if last else text[len(text) - context :]
    cut = f"…({len(text) - len(head) - len(tail)} chars)…"
    return [s for s in ((head, "equal"), (cut, "skip"), (tail, "equal")) if s[0]]


def _walk(a: str, b: str, ops, context: int | None):
    """Yield ``(side, text, kind)`` in order; side is "both", "left" or "right"."""
    for k, (op, i1, i2, j1, j2) in enumerate(ops):
        if op == "equal":
            for text, kind in _cut(a[i1:i2], k == 0, k == len(ops) - 1, context):
                yield "both", text, kind
            continue
        if i2 > i1:
            yield "left", a[i1:i2], "delete"
        if j2 > j1:
            yield "right", b[j1:j2], "insert"


def _style(text: str, kind: str, color: bool) -> str:
    if kind in MARKERS:
        text = text.replace("\n", "↵\n")
        if color:
            return "\n".join(f"{COLORS[kind]}{t}{RESET}" if t else t for t in text.split("\n"))
        start, end = MARKERS[kind]
        return f"{start}{text}{end}"
    if kind == "skip" and color:
        return f"{DIM}{text}{RESET}"
    return text


def render(segments, color: bool) -> str:
    """Segments as text (newlines kept)."""
    return "".join(_style(t, kind, color) for t, kind in segments)


def sides(a: str, b: str, ops, context: int | None = None) -> tuple[list, list]:
    """Segments of the kept side (``a``, deletions marked) and of the removed side (``b``,
    insertions marked). With ``context``, an equal stretch longer than about twice that keeps
    only ``context`` characters at each end around a ``…(N chars)…`` marker."""
    left, right = [], []
    for side, text, kind in _walk(a, b, ops, context):
        if side != "right":
            left.append((text, kind))
        if side != "left":
            right.append((text, kind))
    return left, right


def inline(a: str, b: str, ops, color: bool, context: int | None = None) -> str:
    """Both texts in one, wdiff-style: equal text once, each deletion then its insertion.

    >>> inline("症例は70歳", "症例は71歳", diff_ops("症例は70歳", "症例は71歳"), color=False)
    '症例は7[-0-]{+1+}歳'
    """
    return render([(t, kind) for _, t, kind in _walk(a, b, ops, context)], color)


def stacked(
    a: str, b: str, ops, color: bool, titles: tuple[str, str], context: int | None = None
) -> list[str]:
    """The kept text (deletions marked) above the removed text (insertions marked)."""
    left, right = sides(a, b, ops, context)
    return [titles[0], *render(left, color).split("\n"), titles[1], *render(right, color).split("\n")]


def char_width(ch: str) -> int:
    """Display columns of one character (wide and full-width CJK: 2)."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def wrap(segments, width: int, color: bool) -> list[tuple[str, int]]:
    """``(styled line, display width)`` pairs of at most ``width`` columns; a change's newline is
    shown as ``↵``; styles are reopened on every line so that each line stands alone."""
    lines, current, used = [], [], 0
    for text, kind in segments:
        code = COLORS.get(kind) or (DIM if kind == "skip" else "")
        start, end = MARKERS.get(kind, ("", ""))
        pieces = [text] if kind == "skip" else list(text.replace("\n", "↵").replace("\t", " "))
        if not color and start:
            pieces = [start, *pieces, end]
        opened = False
        for piece in pieces:
            w = text_width(piece)
            if used + w > width and current:
                lines.append(("".join(current) + (RESET if opened else ""), used))
                current, used, opened = [], 0, False
            if color and code and not opened:
                current.append(code)
                opened = True
            current.append(piece)
            used += w
        if opened:
            current.append(RESET)
    if current or not lines:
        lines.append(("".join(current), used))
    return lines


def side_by_side(
    a: str, b: str, ops, width: int, color: bool, titles: tuple[str, str], context: int | None = None
) -> list[str]:
    """Two columns: the kept text (deletions marked) left, the removed text (insertions marked)
    right, realigned at every line break the two texts share."""
    col = max(10, (width - 3) // 2)
    rows, left, right = [], [], []
    for side, text, kind in _walk(a, b, ops, context):
        parts = text.split("\n") if side == "both" else [text]
        for n, part in enumerate(parts):
            if n:
                rows.append((left, right))
                left, right = [], []
            if part and side != "right":
                left.append((part, kind))
            if part and side != "left":
                right.append((part, kind))
    rows.append((left, right))
    out = [_pad(titles[0], col) + " │ " + titles[1], "─" * col + "─┼─" + "─" * col]
    for left, right in rows:
        lw, rw = wrap(left, col, color), wrap(right, col, color)
        for i in range(max(len(lw), len(rw))):
            text, used = lw[i] if i < len(lw) else ("", 0)
            out.append(text + " " * (col - used) + " │ " + (rw[i][0] if i < len(rw) else ""))
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - text_width(text))
