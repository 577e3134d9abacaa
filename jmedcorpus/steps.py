"""Imports every module that registers recipe steps (see :mod:`jmedcorpus.registry`).

Step conventions (every registered step follows them):
- a datatrove ``PipelineStep`` subclass (``BaseFilter`` to keep/drop, ``BaseFormatter`` to rewrite);
- thresholds are keyword-only constructor arguments with annotated types and documented
  defaults, validated with ``ValueError`` (the recipe loader turns that into a one-line error);
- ``signal_fields`` maps each ``doc.metadata`` key the step writes to its Arrow type
  (``"float64"``, ``"int64"``, ``"string"``): these become columns of the output shards;
- filters write their signal into ``doc.metadata`` *before* deciding, and return ``True`` or
  ``(False, REASON)`` with a reason constant from :mod:`jmedcorpus.constants`.
"""

import jmedcorpus.dedup.boilerplate
import jmedcorpus.dedup.exact
import jmedcorpus.dedup.minhash
import jmedcorpus.filters.decontaminate
import jmedcorpus.filters.domain
import jmedcorpus.filters.language
import jmedcorpus.filters.license
import jmedcorpus.filters.medical
import jmedcorpus.filters.quality
import jmedcorpus.pii.step
import jmedcorpus.text.normalize
import jmedcorpus.text.sections
import jmedcorpus.text.tokenize_step  # noqa: F401
