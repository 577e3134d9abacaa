"""What every registered step declares on its class (jmedcorpus/steps.py) is consistent: the
report and inspect read these declarations, so a forgotten or stale one must fail here, not
show up as an empty plot."""

import itertools
import json
import re
import sys
from pathlib import Path

import pytest
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.recipe import step_defaults
from jmedcorpus.registry import registered_steps

# the package's steps (a test may register its own, e.g. one that raises on purpose)
STEPS = sorted((u, c) for u, c in registered_steps().items() if c.__module__.startswith("jmedcorpus."))


@pytest.mark.parametrize("use, cls", STEPS, ids=[u for u, _ in STEPS])
def test_thresholds_name_a_signal_the_step_writes_and_a_parameter_it_takes(use, cls):
    signals = {*getattr(cls, "signal_fields", {}), *getattr(cls, "other_signals", ())}
    params = step_defaults(cls).keys() | {
        n for n in getattr(cls.__init__, "__annotations__", {}) if n not in ("return", "exclusion_writer")
    }
    for signal, bound, param, _ in getattr(cls, "signal_thresholds", ()):
        assert signal in signals, f"{use}: {signal} is not one of its signals"
        assert bound in ("min", "max"), f"{use}: bound {bound}"
        assert param.split("[")[0] in params, f"{use}: {param} is not one of its parameters"


def test_the_report_sees_the_declared_thresholds():
    from jmedcorpus.recipe import load_recipe
    from jmedcorpus.report.thresholds import thresholds_from_recipe

    found = thresholds_from_recipe(load_recipe().to_dict())
    assert found["hiragana_ratio"]["min"] == 0.02 and found["language_score"]["step"] == "language"
    assert found["near_duplicate_jaccard"]["min"] == 0.6


# --- reasons, signals and ordering rules, checked by running every step ---------------------
DATA = Path(__file__).resolve().parent / "data"
REASON_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# what it takes for a step to be able to drop anything (its defaults keep everything)
ARGS = {
    "decontaminate": {"benchmarks": [str(DATA / "igakuqa_ja.jsonl")]},
    "medical_density": {"min_density": 0.5},
    "medical_domain": {"min_score": 0.9},
    "license": {"keep_unknown": False},
}


def _texts() -> list[str]:
    texts = []
    for name in ("case_reports_ja.jsonl", "wikipedia_ja.jsonl", "igakuqa_ja.jsonl", "pubmedqa_en.jsonl"):
        with (DATA / name).open(encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in itertools.islice(f, 12)]
    # the shapes quality filters exist for: empty, repeated, markup, mojibake, number tables
    texts += ["", "ああ" * 3000, "<div><a href='/'>ホーム</a></div>\n" * 40, "縺ゅ≠縺溘§" * 30]
    texts += [
        "カテーテルアブレーション" * 80,
        "★☆■□◆◇→←" * 100,
        "12 34 56 78\n" * 50,
        "症例は。" * 400,
        "。".join(["長い文" * 200] * 3),
    ]
    return texts


def _run(cls, use: str) -> tuple[set[str], set[str]]:
    """(reasons given, metadata keys written) over every text, each a fresh document."""
    from datatrove.data import Document

    step = cls(**ARGS.get(use, {}))
    reasons, keys = set(), set()
    for i, text in enumerate(_texts() + list(getattr(cls, "drop_examples", ()))):
        doc = Document(text=text, id=str(i), metadata={"license": "All rights reserved"})
        before = set(doc.metadata)
        if isinstance(step, BaseFilter):
            decision = step.filter(doc)
            if decision is not True:
                reasons.add(decision[1] if isinstance(decision, tuple) else "")
        else:
            list(step.run(iter([doc])))
        keys |= set(doc.metadata) - before
    return reasons, keys


LOCAL = [(u, c) for u, c in STEPS if not getattr(c, "is_global", False)]


@pytest.mark.parametrize("use, cls", LOCAL, ids=[u for u, _ in LOCAL])
def test_a_step_gives_only_the_reasons_and_writes_only_the_signals_it_declares(use, cls):
    reasons, keys = _run(cls, use)
    assert reasons <= set(getattr(cls, "reasons", ())), f"{use}: undeclared reasons {reasons}"
    if issubclass(cls, BaseFilter):
        assert reasons, f"{use}: dropped nothing here; declare drop_examples on the class (texts it drops)"
    declared = {*getattr(cls, "signal_fields", {}), *getattr(cls, "other_signals", ())}
    assert keys <= declared, f"{use}: writes undeclared metadata {keys - declared}"


@pytest.mark.parametrize("use, cls", STEPS, ids=[u for u, _ in STEPS])
def test_reasons_are_named_constants(use, cls):
    import jmedcorpus.constants

    reasons = getattr(cls, "reasons", ())
    assert not issubclass(cls, BaseFilter) or reasons, f"{use}: a filter declares its reasons"
    module = sys.modules[cls.__module__]
    constants = {v for m in (jmedcorpus.constants, module) for v in vars(m).values() if isinstance(v, str)}
    for reason in reasons:
        assert REASON_NAME.match(reason), f"{use}: {reason!r} is not snake_case"
        assert reason in constants or any(reason.startswith(c) and c.endswith("_") for c in constants), (
            f"{use}: {reason!r} is not a module-level constant (constants.py or its own module)"
        )


def test_no_two_steps_share_a_reason():
    owner = {}
    for use, cls in STEPS:
        for reason in getattr(cls, "reasons", ()):
            assert reason not in owner, f"{reason} given by {owner.get(reason)} and {use}"
            owner[reason] = use


@pytest.mark.parametrize("use, cls", STEPS, ids=[u for u, _ in STEPS])
def test_ordering_rules_name_registered_steps(use, cls):
    for other, why in getattr(cls, "must_follow", {}).items():
        assert other in dict(STEPS) and why, f"{use}: must_follow {other!r}"


def test_the_readme_step_table_lists_every_step_with_its_reasons():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### What the default recipe does", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = line.split(" | ")
        names = re.findall(r"`([a-z_]+)`", cells[0])
        rows[names[0] if names else cells[0].strip("| ")] = cells[1]
    for use, cls in STEPS:
        if use in rows:
            for reason in getattr(cls, "reasons", ()):
                assert f"`{reason}`" in rows[use], f"README step table, {use}: add `{reason}`"
        else:  # grouped in one row
            assert cls.__module__.startswith("jmedcorpus.filters.quality."), f"README step table: add {use}"
            assert all(r.startswith("quality_") for r in cls.reasons), use
