"""Which recipe parameter each signal is compared with, as the step classes declare it
(``signal_thresholds``), read by ``inspect`` (which marks the signal that removed a document) and
``stats`` (which draws thresholds on histograms).

A threshold entry, as returned by :func:`thresholds_from_recipe`, is a JSON-ready dict::

    {"step": "language", "use": "language", "min": 0.5, "max": None,
     "params": {"min": "min_score"}, "removed_when": "value < min (unless kana_rescue_ratio ...)"}

``min`` / ``max`` are the bounds a kept document satisfies (``min <= value <= max``); a document
is removed when its value is below ``min`` or above ``max`` (strictly). One exception:
``near_duplicate_jaccard`` (``minhash_dedup.threshold``) is a ``min`` a *removed* document
reaches: removed when ``value >= min``; its entry has ``"removes": "at_or_above_min"``.
:func:`crossed` applies the right rule. ``language`` is categorical: its entry has ``allowed``
(the recipe's ``languages``) instead of bounds. A threshold the recipe turned off (Gopher's 0)
has no entry.
"""

from __future__ import annotations

from collections import Counter


def table() -> dict[str, tuple[tuple[str, str, str, str], ...]]:
    """use -> ``(signal, bound, param, note)`` rows, from each step class's
    ``signal_thresholds`` (:mod:`jmedcorpus.steps`); ``param`` may index a list parameter:
    ``name[i]``. A new filter needs no entry here."""
    from jmedcorpus.registry import registered_steps

    return {
        use: rows
        for use, cls in registered_steps().items()
        if (rows := getattr(cls, "signal_thresholds", ()))
    }


def measured_by(use: str) -> tuple[str, ...]:
    """The signals the step registered as ``use`` writes (for ``inspect --id``: what each step
    measured), from the class itself: its ``signal_fields`` and ``other_signals``
    (:mod:`jmedcorpus.steps`), so a new step needs no entry here.

    >>> measured_by("medical_density"), measured_by("minhash_dedup")
    (('medical_density',), ('near_duplicate_jaccard', 'cluster_size'))
    """
    from jmedcorpus.registry import registered_steps

    cls = registered_steps().get(use)
    if cls is None:
        return ()
    return (*getattr(cls, "signal_fields", {}), *getattr(cls, "other_signals", ()))


#: reasons that name which of their step's signals decided (others: any signal of the step)
REASON_SIGNAL = {
    "lang_not_ja": "language",
    "lang_low_score": "language_score",
    "quality_sentence_too_long": "max_sentence_length",
    "quality_mean_sentence_length_out_of_range": "mean_sentence_length",
}
GOPHER_REASON_PREFIX = "quality_repetition_"  # + the check: quality_repetition_dup_line_frac


def signal_of_reason(reason: str | None) -> str | None:
    """The signal a drop reason names, when it names one.

    >>> signal_of_reason("quality_repetition_top_2_gram"), signal_of_reason("quality_too_short")
    ('gopher_top_2_gram', None)
    """
    if reason and reason.startswith(GOPHER_REASON_PREFIX) and reason != GOPHER_REASON_PREFIX + "empty":
        return "gopher_" + reason[len(GOPHER_REASON_PREFIX) :]
    return REASON_SIGNAL.get(reason or "")


def step_names(steps: list[dict]) -> list[str]:
    """Output names of resolved recipe steps: the ``use``, suffixed ``_2``, ``_3`` on repeats
    (the rule of :func:`jmedcorpus.pipelines.unit.step_names`).

    >>> step_names([{"use": "language"}, {"use": "mecab"}, {"use": "language"}])
    ['language', 'mecab', 'language_2']
    """
    seen: Counter = Counter()
    names = []
    for spec in steps:
        seen[spec["use"]] += 1
        names.append(spec["use"] if seen[spec["use"]] == 1 else f"{spec['use']}_{seen[spec['use']]}")
    return names


def _param(spec: dict, param: str):
    if param.endswith("]"):
        name, index = param[:-1].split("[")
        values = spec.get(name) or []
        return values[int(index)] if int(index) < len(values) else None
    return spec.get(param)


def _step_thresholds(name: str, spec: dict) -> dict[str, dict]:
    use = spec["use"]
    rows = table().get(use, ())
    if use == "language" and spec.get("mode") == "paragraph":
        rows = [("language_allowed_fraction", "min", "min_allowed_fraction", "bytes in allowed languages")]
    out: dict[str, dict] = {}
    for signal, bound, param, note in rows:
        value = _param(spec, param)
        if value is None or (use == "gopher_repetition" and not value):  # 0 turns a Gopher check off
            continue
        entry = out.setdefault(
            signal, {"step": name, "use": use, "min": None, "max": None, "params": {}, "removed_when": ""}
        )
        entry[bound] = value
        entry["params"][bound] = param
    for signal, entry in out.items():
        note = next((n for s, _, _, n in rows if s == signal and n), "")
        if use == "minhash_dedup":
            entry["removes"] = "at_or_above_min"
            rule = "value >= min"
        else:
            rule = " or ".join(
                f"value {'<' if b == 'min' else '>'} {b}" for b in ("min", "max") if entry[b] is not None
            )
        entry["removed_when"] = f"{rule} ({note})" if note else rule
    if use == "language" and spec.get("mode", "document") == "document":
        allowed = list(spec.get("languages") or ["ja"])
        out["language"] = {
            "step": name,
            "use": use,
            "min": None,
            "max": None,
            "params": {"allowed": "languages"},
            "allowed": allowed,
            "removed_when": "value not in allowed",
        }
    return out


def thresholds_by_step(resolved_recipe: dict) -> dict[str, dict[str, dict]]:
    """``{step name: {signal: entry}}`` for the steps of a resolved recipe (``manifest["recipe"]``)
    that compare a signal with a threshold, in recipe order."""
    steps = list(resolved_recipe.get("steps") or [])
    result = {}
    for name, spec in zip(step_names(steps), steps):
        entries = _step_thresholds(name, spec)
        if entries:
            result[name] = entries
    return result


def thresholds_from_recipe(resolved_recipe: dict) -> dict[str, dict]:
    """``{signal: entry}`` (see the module docstring) from a resolved recipe. When two steps
    compare the same signal, the later one wins (it also wrote the value a kept document has).

    >>> t = thresholds_from_recipe({"steps": [{"use": "language", "languages": ["ja"], "min_score": 0.5},
    ...                                       {"use": "doc_length", "min_chars": 20, "max_chars": 1000}]})
    >>> t["language_score"]["min"], t["language_score"]["params"], t["non_space_chars"]["max"]
    (0.5, {'min': 'min_score'}, 1000)
    >>> t["language"]["allowed"]
    ['ja']
    """
    flat: dict[str, dict] = {}
    for entries in thresholds_by_step(resolved_recipe).values():
        flat.update(entries)
    return flat


def crossed(entry: dict, value) -> str | None:
    """The bound of ``entry`` that ``value`` is on the removed side of (``"min"``, ``"max"``,
    ``"allowed"``), or None when it is on the kept side (or not a value).

    >>> crossed({"min": 0.5, "max": None}, 0.2), crossed({"min": 0.5, "max": None}, 0.5)
    ('min', None)
    >>> crossed({"min": 0.6, "max": None, "removes": "at_or_above_min"}, 0.6)
    'min'
    >>> crossed({"min": None, "max": None, "allowed": ["ja"]}, "en")
    'allowed'
    """
    if value is None:
        return None
    if "allowed" in entry:
        return None if value in entry["allowed"] else "allowed"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    low, high = entry.get("min"), entry.get("max")
    if entry.get("removes") == "at_or_above_min":
        return "min" if low is not None and value >= low else None
    if low is not None and value < low:
        return "min"
    if high is not None and value > high:
        return "max"
    return None


def describe(entry: dict, bound: str | None = None) -> str:
    """Short text of an entry's bounds, e.g. ``min_score 0.5`` or ``min_chars 20, max_chars 1000000``.

    >>> describe({"min": 20, "max": 100, "params": {"min": "min_chars", "max": "max_chars"}}, "max")
    'max_chars 100'
    """
    if "allowed" in entry:
        return f"{entry['params'].get('allowed', 'allowed')} {entry['allowed']}"
    bounds = [bound] if bound else [b for b in ("min", "max") if entry.get(b) is not None]
    return ", ".join(f"{entry.get('params', {}).get(b, b)} {_fmt(entry.get(b))}" for b in bounds)


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
