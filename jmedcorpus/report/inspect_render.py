"""How ``jmedcorpus inspect`` shows a document: where it is, its signals next to the thresholds
(the one that removed it marked), a text excerpt with redactions highlighted, and for a
near-duplicate the kept document beside it with the differences marked. Text for people, or one
JSON object per document."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field

from jmedcorpus.report import diff
from jmedcorpus.report.thresholds import crossed, describe, signal_of_reason

#: placeholders a PII step writes in place of what it redacts (``<NAME>``, ``<PHONE_2>``, …)
REDACTION = re.compile(
    r"<(?:NAME|PHONE|ID|DATE|ADDRESS|EMAIL|MYNUMBER|AGE|HOSPITAL|URL|ZIP|POSTCODE)(?:_\d+)?>"
)
BOLD, RED, YELLOW_BG, MAGENTA, DIM, RESET = (
    "\x1b[1m",
    "\x1b[31m",
    "\x1b[30;43m",
    "\x1b[1;35m",
    "\x1b[2m",
    "\x1b[0m",
)
TEXT_COLUMNS = ("id", "text", "source")
PAIR_CONTEXT = 60  # characters of unchanged text kept around each change (without --full)


@dataclass
class View:
    """Display settings and what the output knows about thresholds."""

    color: bool = False
    chars: int = 400
    full: bool = False
    width: int = 80
    regex: object = None
    raw: bool = False
    steps: list[dict] = field(default_factory=list)  # manifest steps, in order
    by_step: dict = field(default_factory=dict)  # thresholds_by_step of the recipe
    _upto: dict = field(default_factory=dict, repr=False)  # memo of entry_for

    def c(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.color and text else text

    def entry_for(self, signal: str, upto: str | None = None) -> dict | None:
        """The threshold the last step (up to ``upto``) comparing ``signal`` applied."""
        if upto not in self._upto:
            entries: dict[str, dict] = {}
            for s in self.steps:
                entries.update(self.by_step.get(s["name"], {}))
                if s["name"] == upto:
                    break
            self._upto[upto] = entries
        return self._upto[upto].get(signal)


def make_record(kind: str, rel: str, row: dict, id_field: str = "id") -> dict:
    """A document (or quarantine record) as inspect shows it, from its Parquet row."""
    if kind == "quarantined":
        from jmedcorpus.report.inspect_read import raw_id

        rec = {"id": raw_id(row.get("raw"), id_field), "status": "quarantined", "file": rel}
        rec |= {k: row.get(k) for k in ("error", "detail", "line", "offset")}
        rec["input_file"] = row.get("file")
        rec["raw"] = row.get("raw")
        return rec
    rec = {"id": row.get("id"), "status": kind, "file": rel, "source": row.get("source")}
    if kind == "removed":
        rec |= {k: row.get(k) for k in ("step", "reason", "detail", "duplicate_of", "cluster")}
        try:
            signals = json.loads(row.get("signals") or "{}")
        except ValueError:
            signals = {}
    else:
        signals = {k: v for k, v in row.items() if k not in TEXT_COLUMNS}
    rec["signals"] = {k: v for k, v in signals.items() if v is not None}
    rec["text"] = row.get("text")
    return rec


def judge(rec: dict, view: View) -> list[tuple[str, object, dict | None, str | None, bool]]:
    """``(signal, value, threshold entry, bound crossed, decisive)`` for each signal; decisive:
    the bound crossed belongs to the step that removed the document."""
    upto = rec.get("step") if rec["status"] == "removed" else None
    named = signal_of_reason(rec.get("reason")) if upto else None
    out = []
    for name, value in rec.get("signals", {}).items():
        entry = view.entry_for(name, upto)
        bound = crossed(entry, value) if entry else None
        decisive = bool(bound and upto and entry["step"] == upto and (named is None or named == name))
        out.append((name, value, entry, bound, decisive))
    return out


def fired(rec: dict, view: View) -> list[dict]:
    """The thresholds that removed ``rec``: signal, value, step, bound, recipe param, threshold."""
    result = []
    for name, value, entry, bound, decisive in judge(rec, view):
        if decisive:
            threshold = entry["allowed"] if bound == "allowed" else entry[bound]
            param = entry["params"].get(bound, bound)
            result.append(
                {"signal": name, "value": value, "step": entry["step"], "bound": bound}
                | {"param": param, "threshold": threshold, "removed_when": entry["removed_when"]}
            )
    return result


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _comparison(entry: dict, bound: str) -> str:
    if bound == "allowed":
        return f"not in {describe(entry)}"
    if entry.get("removes") == "at_or_above_min":
        return f"≥ {describe(entry, bound)}"
    return f"{'<' if bound == 'min' else '>'} {describe(entry, bound)}"


def signal_lines(rec: dict, view: View) -> list[str]:
    rows, others = [], []
    for name, value, entry, bound, decisive in judge(rec, view):
        if entry is None:
            others.append(f"{name} {fmt(value)}")
        elif decisive:
            mark = view.c(RED + BOLD, f"◀ fired ({entry['step']})")
            rows.append(f"{name:<26} {fmt(value):>10}  {_comparison(entry, bound)}  {mark}")
        elif bound:
            rows.append(
                f"{name:<26} {fmt(value):>10}  {_comparison(entry, bound)}  "
                f"(crossed; {entry['step']} kept it)"
            )
        else:
            rows.append(f"{name:<26} {fmt(value):>10}  {view.c(DIM, '(' + describe(entry) + ')')}")
    if others:
        rows.append("also: " + ", ".join(others))
    return rows or ["(none stored)"]


def excerpt(text: str, view: View) -> tuple[str, int, int]:
    """The part of ``text`` to show: all of it with --full, else ``chars`` characters from the
    start, or around the first --query match."""
    if view.full or len(text) <= view.chars:
        return text, 0, len(text)
    start = 0
    m = view.regex.search(text) if view.regex is not None else None
    if m:
        start = max(0, min(m.start() - view.chars // 4, len(text) - view.chars))
    return text[start : start + view.chars], start, min(len(text), start + view.chars)


def highlight(text: str, view: View) -> str:
    """Redaction placeholders (and --query matches, in colour) highlighted; without colour a
    placeholder is shown as ``«<NAME>»``."""
    spans = [(m.start(), m.end(), "redaction") for m in REDACTION.finditer(text)]
    if view.regex is not None and view.color:
        spans += [(m.start(), m.end(), "match") for m in view.regex.finditer(text) if m.end() > m.start()]
    spans.sort()
    out, pos = [], 0
    for start, end, kind in spans:
        if start < pos:
            continue
        out.append(text[pos:start])
        piece = text[start:end]
        if kind == "redaction":
            out.append(view.c(YELLOW_BG, piece) if view.color else f"«{piece}»")
        else:
            out.append(view.c(MAGENTA, piece))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redactions(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in REDACTION.finditer(text or ""):
        counts[m.group()] = counts.get(m.group(), 0) + 1
    return counts


def where(rec: dict) -> str:
    if rec["status"] == "kept":
        return f"kept: in {rec['file']}"
    if rec["status"] == "removed":
        return f"removed by {rec['step']}: {rec['reason']}  ({rec['file']})"
    return f"quarantined: {rec['error']}  ({rec['file']})"


def size(rec: dict) -> tuple[int | None, int | None]:
    s = rec.get("signals", {})
    chars = s.get("chars", len(rec["text"]) if rec.get("text") is not None else None)
    return chars, s.get("mecab_tokens")


def header(title: str, view: View) -> str:
    return view.c(BOLD, f"━━ {title} " + "━" * max(3, min(view.width, 100) - diff.text_width(title) - 4))


def document_lines(
    rec: dict, view: View, pair: dict | None = None, middle: list[str] | None = None
) -> list[str]:
    """A document for people; ``middle`` (the --id trace) replaces the signal list."""
    lines = [header(rec["id"] or "?", view), f"  where      {where(rec)}"]
    chars, tokens = size(rec)
    tokens = f", {tokens} MeCab tokens" if tokens is not None else ""
    lines.append(f"  source     {rec.get('source')}   ·   {chars} chars{tokens}")
    if rec.get("detail"):
        lines.append(f"  detail     {rec['detail']}")
    if rec.get("duplicate_of"):
        cluster = f", cluster {rec['cluster']}" if rec.get("cluster") is not None else ""
        found = f" ({where(pair['kept'])})" if pair else " (not found in this output)"
        lines.append(f"  duplicate  of {rec['duplicate_of']}{cluster}{found}")
    if middle is not None:
        lines += middle
    else:
        sig = signal_lines(rec, view)
        lines += [f"  signals    {sig[0]}"] + [f"             {s}" for s in sig[1:]]
    found = redactions(rec.get("text"))
    if found:
        lines.append("  redacted   " + ", ".join(f"{k} ×{n}" for k, n in found.items()))
    if pair and pair["ops"] and any(op != "equal" for op, *_ in pair["ops"]):
        lines += pair_lines(rec, pair, view)
        return lines
    lines += text_lines(rec["text"] or "", view, "identical to the kept document, " if pair else "")
    return lines


def text_lines(text: str, view: View, note: str = "") -> list[str]:
    shown, start, end = excerpt(text, view)
    label = "all" if (start, end) == (0, len(text)) else f"characters {start}-{end} of {len(text)}"
    body = highlight(shown, view)
    body = ("…" if start else "") + body + ("…" if end < len(text) else "")
    return [f"  text       ({note}{label})"] + ["    " + line for line in body.split("\n")]


def pair_lines(rec: dict, pair: dict, view: View) -> list[str]:
    a, b, ops = pair["kept"]["text"], rec["text"], pair["ops"]
    changed = [o for o in ops if o[0] != "equal"]
    n_chars = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in changed)
    summary = f"{len(changed)} change(s), {n_chars} character(s)"
    lines = [f"  diff       {summary}: kept {pair['kept']['id']} → removed {rec['id']}"]
    context = None if view.full else PAIR_CONTEXT
    titles = (f"kept {pair['kept']['id']}", f"removed {rec['id']}")
    if view.width >= 100:
        body = diff.side_by_side(a, b, ops, view.width - 4, view.color, titles, context)
    else:
        body = diff.stacked(a, b, ops, view.color, (titles[0] + ":", titles[1] + ":"), context)
    return lines + ["    " + line for line in body]


def text_field(text: str | None, view: View) -> dict:
    if text is None:
        return {"text": None}
    if view.full:
        return {"text": text}
    shown, start, end = excerpt(text, view)
    return {"excerpt": shown, "excerpt_span": [start, end]}


def document_json(rec: dict, view: View, pair: dict | None = None) -> dict:
    chars, tokens = size(rec)
    obj = {
        k: rec.get(k)
        for k in ("id", "status", "file", "step", "reason", "detail", "duplicate_of", "cluster", "source")
    }
    obj |= {"chars": chars, "mecab_tokens": tokens, "signals": rec.get("signals", {})}
    obj["thresholds_fired"] = fired(rec, view)
    obj["redactions"] = redactions(rec.get("text"))
    obj |= text_field(rec.get("text"), view)
    if rec.get("duplicate_of"):
        obj["pair"] = None
        if pair:
            k = pair["kept"]
            obj["pair"] = {"kept_id": k["id"], "kept_status": k["status"], "kept_file": k["file"]}
            obj["pair"] |= {f"kept_{key}": v for key, v in text_field(k["text"], view).items()}
            obj["pair"]["diff"] = diff.changes(k["text"], rec["text"], pair["ops"])
    return obj


def escape_raw(raw: bytes | None, limit: int | None) -> str:
    """A printable preview of raw input bytes: invalid UTF-8 as ``\\xNN``, controls escaped.

    >>> escape_raw(b'{"t": "\\xe7\\x97\\x87\\xff"}\\n', None)
    '{"t": "症\\\\xff"}\\\\n'
    """
    if raw is None:
        return ""
    text = raw.decode("utf-8", "backslashreplace")
    out = []
    for ch in text[:limit] if limit else text:
        if unicodedata.category(ch).startswith("C"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out) + ("…" if limit and len(text) > limit else "")


def quarantine_lines(rec: dict, view: View) -> list[str]:
    place = f"{rec['input_file']} line {rec['line']}" if rec.get("line") is not None else rec["input_file"]
    lines = [header(f"quarantined: {place} (byte/row {rec['offset']})", view)]
    lines.append(f"  error      {rec['error']}: {rec['detail']}")
    lines.append(f"  id         {rec['id'] or '(none readable)'}")
    lines.append(f"  in         {rec['file']}")
    if view.raw:
        lines.append(f"  raw        {escape_raw(rec['raw'], None if view.full else min(view.chars, 200))}")
    return lines


def quarantine_json(rec: dict, view: View) -> dict:
    obj = {k: rec.get(k) for k in ("id", "status", "file", "input_file", "line", "offset", "error", "detail")}
    if view.raw:
        obj["raw_preview"] = escape_raw(rec["raw"], None if view.full else min(view.chars, 200))
    return obj
