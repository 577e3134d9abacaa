"""Imports every module that registers recipe steps (see :mod:`jmedcorpus.registry`).

Step conventions (every registered step follows them):
- a datatrove ``PipelineStep`` subclass (``BaseFilter`` to keep/drop, ``BaseFormatter`` to rewrite);
- thresholds are keyword-only constructor arguments with annotated types and documented
  defaults, validated with ``ValueError`` (the recipe loader turns that into a one-line error);
- ``signal_fields`` maps each ``doc.metadata`` key the step writes to its Arrow type
  (``"float64"``, ``"int64"``, ``"string"``): these become columns of the output shards;
- ``signal_thresholds`` (optional): ``(signal, bound, param, note)`` rows, one per recipe
  parameter a signal is compared with (``bound`` ``min`` or ``max``; ``param`` may index a list
  parameter, ``name[i]``): ``stats`` draws them on histograms and ``inspect --id`` marks the one
  crossed (:mod:`jmedcorpus.report.thresholds`);
- ``other_signals`` (optional) names signals written outside ``signal_fields``: by a mode
  (``language``'s paragraph mode) or by a global stage on removed records (``minhash_dedup``);
  ``inspect --id`` shows what ``signal_fields`` and ``other_signals`` list;
- ``signal_kinds`` (optional) says what a numeric signal is, where its name does not: ``ratio``
  or ``score`` (a value in [0, 1]: 50 linear bins), ``count`` (non-negative, wide range: bins per
  decade on a log axis) or ``sparse_count`` (a count that is 0 on most documents, such as
  redactions: integer bins 0-49, and the share of documents with at least one). Undeclared
  signals are a ratio when their name ends in ratio/frac/score/... and a count otherwise
  (:func:`jmedcorpus.report.stats.kind_of`);
- ``reasons`` lists every drop reason the step can give (module-level constants, in
  :mod:`jmedcorpus.constants` or in the step's own module); filters write their signal into
  ``doc.metadata`` *before* deciding, and return ``True`` or ``(False, REASON)``;
- ``drop_examples`` (optional): short texts the step drops at its defaults, for the contract
  test (``tests/test_step_contract.py``), which runs every filter on real and malformed text and
  these, and fails when a filter drops nothing or gives an undeclared reason;
- ``must_follow`` (optional) maps a step name to why that step may not come after this one in
  a recipe (the recipe loader refuses such an order with that reason).
"""

import importlib
import pkgutil

import jmedcorpus.dedup
import jmedcorpus.filters
import jmedcorpus.pii

# the step packages: every module in them is imported, so a new step module needs no line here
for _package in (jmedcorpus.filters, jmedcorpus.dedup, jmedcorpus.pii):
    for _module in pkgutil.walk_packages(_package.__path__, f"{_package.__name__}."):
        importlib.import_module(_module.name)

# steps that live beside the text utilities they wrap
import jmedcorpus.text.normalize
import jmedcorpus.text.sections
import jmedcorpus.text.tokenize_step
