"""``jmedcorpus inspect OUT --id ID``: one document through every step of the build, in order:
"passed" (with what each step measured, next to its thresholds) until the step that removed it,
or "kept" with the shard it is in; a quarantined record never reached a step."""

from __future__ import annotations

from jmedcorpus.report.diff import text_width
from jmedcorpus.report.inspect_render import (
    View,
    _comparison,
    document_json,
    document_lines,
    fired,
    fmt,
    quarantine_json,
    quarantine_lines,
)
from jmedcorpus.report.thresholds import crossed, describe, measured_by


def _owners(rec: dict, view: View) -> dict[str, str]:
    """signal -> the last step (up to the removing one) that measures it: the value is its."""
    owners = {}
    for s in view.steps:
        for signal in measured_by(s.get("use", s["name"])):
            if signal in rec["signals"]:
                owners[signal] = s["name"]
        if rec["status"] == "removed" and s["name"] == rec["step"]:
            break
    return owners


def trace(rec: dict, view: View) -> list[dict]:
    """Per step, in build order: ``step``, ``use``, ``result`` (passed / removed / not reached),
    the ``signals`` it measured with their ``thresholds``; the removing step also has ``reason``,
    ``detail``, ``thresholds_fired`` and ``duplicate_of``."""
    if rec["status"] == "quarantined":
        return []
    owners = _owners(rec, view)
    removed_at = rec.get("step") if rec["status"] == "removed" else None
    names = [s["name"] for s in view.steps]
    steps = list(view.steps) + (
        [{"name": removed_at, "use": removed_at}] if removed_at not in names + [None] else []
    )
    result, reached = [], True
    for s in steps:
        name = s["name"]
        entry = {"step": name, "use": s.get("use", name), "result": "passed" if reached else "not reached"}
        measured = {k: v for k, v in rec["signals"].items() if owners.get(k) == name}
        if measured:
            entry["signals"] = measured
            limits = view.by_step.get(name, {})
            entry["thresholds"] = {k: describe(limits[k]) for k in measured if k in limits}
        if name == removed_at:
            entry["result"] = "removed"
            entry |= {k: rec.get(k) for k in ("reason", "detail", "duplicate_of", "cluster")}
            entry["thresholds_fired"] = fired(rec, view)
            reached = False
        result.append(entry)
    return result


def _step_line(n: int, entry: dict, rec: dict, view: View) -> list[str]:
    parts = []
    limits = view.by_step.get(entry["step"], {})
    for k, v in (entry.get("signals") or {}).items():
        text = f"{k} {fmt(v)}"
        bound = crossed(limits[k], v) if k in limits else None
        if any(f["signal"] == k for f in entry.get("thresholds_fired", [])):
            text += f" {_comparison(limits[k], bound)} " + view.c("\x1b[1;31m", "◀ fired")
        elif bound:
            text += f" {_comparison(limits[k], bound)} (crossed; the step kept it)"
        elif k in limits:
            text += f" ({describe(limits[k])})"
        parts.append(text)
    result = entry["result"]
    if result == "removed":
        result = view.c("\x1b[1;31m", "REMOVED ") + str(entry["reason"])
        if entry.get("detail"):
            parts.append(str(entry["detail"]))
        if entry.get("duplicate_of"):
            cluster = f", cluster {entry['cluster']}" if entry.get("cluster") is not None else ""
            parts.append(f"duplicate of {entry['duplicate_of']}{cluster}")
    elif result == "not reached":
        result = view.c("\x1b[2m", result)
    head = f"  {n:>3}  {entry['step']:<24} {result}"
    lines, indent = [head], " " * 35
    for k, part in enumerate(parts):
        sep = "   " if k == 0 else " · "
        if k and text_width(lines[-1]) + len(sep) + text_width(part) > view.width:
            lines.append(indent + part)
        else:
            lines[-1] += sep + part
    return lines


def trace_lines(rec: dict, view: View, pair: dict | None) -> list[str]:
    if rec["status"] == "quarantined":
        lines = quarantine_lines(rec, view)
        lines.append("  trace      quarantined while reading the input: no step ran on it")
        return lines
    steps = trace(rec, view)
    middle = [f"  {'#':>3}  {'step':<24} result"]
    for n, e in enumerate(steps, 1):
        middle += _step_line(n, e, rec, view)
    if rec["status"] == "removed" and not any(e.get("signals") for e in steps if e["result"] == "passed"):
        middle.append(
            f"  {'':>3}  (the signals of the steps before {rec['step']} "
            "are not stored with the documents it removes)"
        )
    if rec["status"] == "kept":
        middle.append(f"  {'':>3}  {'→':<24} kept: in {rec['file']}")
    shown = {k for e in steps for k in e.get("signals", {})}
    others = [f"{k} {fmt(v)}" for k, v in rec["signals"].items() if k not in shown]
    if others:
        middle.append("  other signals: " + ", ".join(others))
    return document_lines(rec, view, pair, middle=middle)


def trace_json(rec: dict, view: View, pair: dict | None) -> dict:
    if rec["status"] == "quarantined":
        return quarantine_json(rec, view) | {"trace": []}
    return document_json(rec, view, pair) | {"trace": trace(rec, view)}
