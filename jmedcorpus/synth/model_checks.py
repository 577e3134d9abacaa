"""The model checks of a chunk: the answer check (:mod:`jmedcorpus.synth.answer_check`) and the
judge score (:mod:`jmedcorpus.synth.rubric_judge`) of the items that passed every rule.

Both are optional and off by default (recipe sections ``answer_check`` and ``judge``,
``--answer-check`` and ``--judge``). They run on the items of a chunk that passed the rules and
are not near-duplicates of an item accepted in earlier chunks (a model call on an item that is
rejected anyway would be wasted), as one batch per chunk and engine: ``k`` answer requests and
one judge request per item go to the engine together, through the same request cache as the
generations (a resumed run re-asks nothing it got an answer to). Both checks run on every such
item, so a rejected row says every reason found, as the rules do.

This module is the logic only (requests, verdicts, the per-chunk tally for the manifest); the
engine calls belong to :mod:`jmedcorpus.pipelines.synth_chunks`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from jmedcorpus.constants import SYNTH_ANSWER_MISMATCH, SYNTH_JUDGE_BELOW_FLOOR, SYNTH_JUDGE_UNPARSEABLE
from jmedcorpus.synth.answer_check import AnswerCheck
from jmedcorpus.synth.engines.base import Completion, Request
from jmedcorpus.synth.passages import Passage
from jmedcorpus.synth.rubric_judge import RubricJudge

# the reasons the model checks give (a failed check request gives its engine reason)
CHECK_REASONS = (SYNTH_ANSWER_MISMATCH, SYNTH_JUDGE_UNPARSEABLE, SYNTH_JUDGE_BELOW_FLOOR)


@dataclass
class CheckResult:
    """The model checks of one item: reasons (``[]``: passed), a detail of numbers only, the
    row columns (``answer_check_*``, ``judge*``, ``judge_raw``) and the failed requests."""

    reasons: list[str] = field(default_factory=list)
    detail: str = ""
    fields: dict = field(default_factory=dict)
    errors: int = 0


class ModelChecks:
    """The enabled checks of a run.

    Args:
        answer_check: the answer check, or None when off.
        judge: the judge, or None when off.
        judge_model: the judge's model as recorded on each item (``judge`` column).
    """

    def __init__(
        self,
        *,
        answer_check: AnswerCheck | None = None,
        judge: RubricJudge | None = None,
        judge_model: str = "",
    ) -> None:
        self.answer_check, self.judge, self.judge_model = answer_check, judge, judge_model

    @property
    def enabled(self) -> bool:
        return self.answer_check is not None or self.judge is not None

    def requests(self, candidates: list[tuple[Passage, object]]) -> tuple[list[Request], list[Request]]:
        """``(answer requests, judge requests)`` of the ``(passage, item)`` candidates."""
        answers, judged = [], []
        for p, item in candidates:
            if self.answer_check is not None:
                answers += self.answer_check.requests(p.key, p.text, item)
            if self.judge is not None:
                judged.append(self.judge.request(p.key, p.text, item))
        return answers, judged

    def decide(
        self, candidates: list[tuple[Passage, object]], completions: dict[str, Completion]
    ) -> dict[str, CheckResult]:
        """The result of each candidate by passage key, from the completions of its requests."""
        results = {}
        for p, item in candidates:
            result = CheckResult()
            details = []
            if self.answer_check is not None:
                got = [completions[f"{p.key}#answer{j}"] for j in range(self.answer_check.k)]
                v = self.answer_check.decide(item, got)
                result.reasons += v.reasons
                result.errors += v.errors
                details.append(v.detail)
                if v.agreement is not None:
                    result.fields |= {
                        "answer_check_answers": v.answers,
                        "answer_check_agreement": v.agreement,
                    }
            if self.judge is not None:
                v = self.judge.decide(completions[f"{p.key}#judge"])
                result.reasons += v.reasons
                result.errors += v.errors
                if v.reasons:
                    details.append(v.detail)
                if not v.errors:
                    result.fields |= {
                        "judge_score": v.score,
                        "judge_rubric": self.judge.rubric,
                        "judge_raw": v.raw,
                    }
                if v.score is not None:
                    verdict = {"model": self.judge_model, "criteria": v.criteria, "comment": v.comment}
                    result.fields["judge"] = json.dumps(verdict, ensure_ascii=False, sort_keys=True)
            # the detail names the failing check(s); for a passed item it is not shown
            result.detail = "; ".join(d for d in details if d) if result.reasons else ""
            results[p.key] = result
        return results


def tally(results: list[CheckResult]) -> dict:
    """What a chunk marker keeps of its checks, for the manifest: items checked, agreement
    values and judge scores as histograms (``"unparseable"``: no score), failed checks.

    >>> tally([CheckResult(fields={"answer_check_agreement": 1.0, "judge_score": 4, "judge_rubric": "judge_v1"}),
    ...        CheckResult(fields={"answer_check_agreement": 0.3333, "judge_rubric": "judge_v1"})])
    {'items': 2, 'agreement': {'0.3333': 1, '1.0': 1}, 'judge_scores': {'4': 1, 'unparseable': 1}, 'errors': 0}
    """
    agreement = Counter(
        str(r.fields["answer_check_agreement"]) for r in results if "answer_check_agreement" in r.fields
    )
    scores = Counter(
        str(r.fields["judge_score"]) if r.fields.get("judge_score") is not None else "unparseable"
        for r in results
        if "judge_rubric" in r.fields
    )
    return {
        "items": len(results),
        "agreement": dict(sorted(agreement.items())),
        "judge_scores": dict(sorted(scores.items())),
        "errors": sum(1 for r in results if r.errors),
    }


def summarize(tallies: list[dict]) -> dict:
    """The chunks' tallies summed: histograms, the mean agreement and the mean score.

    >>> summarize([{"items": 2, "agreement": {"1.0": 1, "0.3333": 1}, "judge_scores": {"5": 1, "unparseable": 1}, "errors": 0},
    ...            {"items": 1, "agreement": {"1.0": 1}, "judge_scores": {"3": 1}, "errors": 1}])["mean_score"]
    4.0
    """
    agreement, scores = Counter(), Counter()
    for t in tallies:
        agreement.update(t["agreement"])
        scores.update(t["judge_scores"])
    n_agree = sum(agreement.values())
    numeric = {int(k): v for k, v in scores.items() if k != "unparseable"}
    n_scored = sum(numeric.values())
    return {
        "items_checked": sum(t["items"] for t in tallies),
        "items_with_failed_checks": sum(t["errors"] for t in tallies),
        "agreement_histogram": dict(sorted(agreement.items(), key=lambda kv: float(kv[0]))),
        "mean_agreement": round(sum(float(k) * v for k, v in agreement.items()) / n_agree, 4)
        if n_agree
        else None,
        "score_distribution": {
            **{str(s): numeric.get(s, 0) for s in range(1, 6)},
            "unparseable": scores["unparseable"],
        },
        "mean_score": round(sum(k * v for k, v in numeric.items()) / n_scored, 3) if n_scored else None,
    }
