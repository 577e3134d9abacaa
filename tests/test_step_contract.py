"""What every registered step declares on its class (jmedcorpus/steps.py) is consistent: the
report and inspect read these declarations, so a forgotten or stale one must fail here, not
show up as an empty plot."""

import pytest

from jmedcorpus.recipe import step_defaults
from jmedcorpus.registry import registered_steps

STEPS = sorted(registered_steps().items())


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
