"""From a completion to an output row: judge it (engine failure, cut at ``max_tokens``, parse,
validate) and lay it out as an accepted training row or a rejected row with its reasons.

Accepted rows carry ``messages`` in the chat format SFT trainers read (TRL's ``SFTTrainer``,
axolotl's ``chat_template`` datasets, LLaMA-Factory's ShareGPT/OpenAI format), plus flat
columns to filter or re-format on. The exam item is laid out as the licensing exam prints it::

    user:       <question>
                a. <option a>
                ...
                e. <option e>
    assistant:  正解: c
                解説: <explanation>

A free QA pair is ``user: question`` / ``assistant: answer``; an EHR normalization item is laid
out by its template (``item_user``: the local name; ``item_assistant``: standard name and code),
with ``question`` = the local name, ``answer`` = the code, ``answer_text`` = the standard name.

The model checks (:mod:`jmedcorpus.synth.model_checks`) add their columns to both kinds of row
(null when a check is off or did not run): ``answer_check_answers``, ``answer_check_agreement``,
``judge_score``, ``judge_rubric``, ``judge`` (JSON); rejected rows also keep ``judge_raw``.
"""

from __future__ import annotations

import json

import pyarrow as pa

from jmedcorpus.constants import SYNTH_DUPLICATE, SYNTH_MAX_TOKENS
from jmedcorpus.synth.contamination import ContaminationIndex
from jmedcorpus.synth.ehr_master import StandardMaster, parse_ehr
from jmedcorpus.synth.engines.base import Completion
from jmedcorpus.synth.grounding import GroundingCheck
from jmedcorpus.synth.items import EhrItem, ExamItem, FreeQA, Rejection
from jmedcorpus.synth.near_duplicates import NearDuplicateIndex
from jmedcorpus.synth.parsing import parse_exam, parse_free
from jmedcorpus.synth.passages import Passage
from jmedcorpus.synth.prompts import PromptTemplate
from jmedcorpus.synth.validation import exam_text, free_text, validate_exam, validate_free

_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
_COMMON = [
    ("id", pa.string()),
    ("kind", pa.string()),
    ("source_id", pa.string()),
    ("source", pa.string()),  # the document's source column in the corpus (e.g. its dataset)
    ("passage_index", pa.int64()),
    ("passage_start", pa.int64()),
    ("passage_end", pa.int64()),
    ("model", pa.string()),
    ("engine", pa.string()),
    ("prompt_version", pa.string()),
    ("sampling", pa.string()),  # JSON: temperature, top_p, max_tokens, seed (the run's)
    ("seed", pa.int64()),  # this request's seed
    ("finish_reason", pa.string()),
    ("prompt_tokens", pa.int64()),
    ("completion_tokens", pa.int64()),
]
# the model checks' columns, on accepted and rejected rows
_CHECKS = [
    ("answer_check_answers", pa.list_(pa.string())),  # the k letters answered (null: unreadable)
    ("answer_check_agreement", pa.float64()),  # share of them equal to the key
    ("judge_score", pa.int64()),  # 1-5
    ("judge_rubric", pa.string()),  # the rubric's id (judge_v1)
    ("judge", pa.string()),  # JSON: the judge's model, criteria scores, comment
]
CHECK_FIELDS = tuple(name for name, _ in _CHECKS)
ACCEPTED_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("messages", pa.list_(_MESSAGE)),
        ("question", pa.string()),
        ("options", pa.list_(pa.string())),  # exam: 5 option texts without labels; free: null
        ("answer", pa.string()),  # exam: the letter a-e; free: the answer
        ("answer_text", pa.string()),  # exam: the correct option's text; free: the answer
        ("explanation", pa.string()),  # exam only
        ("passage", pa.string()),  # the source passage, for audits of grounding
        *_COMMON[1:],
        *_CHECKS,
    ]
)
REJECTED_SCHEMA = pa.schema(
    [
        *_COMMON,
        ("reason", pa.string()),  # the first reason
        ("reasons", pa.list_(pa.string())),  # every reason found, in validation order
        ("detail", pa.string()),  # counts, status codes, field names: never text
        ("attempts", pa.int64()),
        ("raw", pa.string()),  # the model output as generated (null when nothing was generated)
        *_CHECKS,
        ("judge_raw", pa.string()),  # the judge's output as generated
    ]
)


def exam_messages(item: ExamItem) -> list[dict]:
    """Chat messages of an exam item.

    >>> m = exam_messages(ExamItem("どれか。", ["A", "B", "C", "D", "E"], "c", "Cである。"))
    >>> print(m[0]["content"]); print(m[1]["content"])
    どれか。
    a. A
    b. B
    c. C
    d. D
    e. E
    正解: c
    解説: Cである。
    """
    return [
        {"role": "user", "content": item.question_with_options()},
        {"role": "assistant", "content": f"正解: {item.answer}\n解説: {item.explanation}"},
    ]


class Judge:
    """Decides each completion by the rules, in passage order (the near-duplicate index depends
    on order).

    :meth:`judge` is the whole decision. A run with model checks splits it: :meth:`rules` (every
    rule but the near-duplicate check, any order), the model checks on the items that passed,
    then :meth:`commit` in passage order, so that only items accepted in the end enter the
    near-duplicate index (a resumed run rebuilds it from the accepted rows: the same index).

    Args:
        kind: ``exam``, ``free`` or ``ehr`` (the template's kind: which parser and validators).
        near_duplicate_threshold, grounding_min_overlap: see
            :mod:`jmedcorpus.synth.near_duplicates`, :mod:`jmedcorpus.synth.grounding`.
        contamination: benchmark n-grams, or None to skip that check.
        master: the standard-name master (``ehr`` only).
    """

    def __init__(
        self,
        kind: str,
        *,
        near_duplicate_threshold: float = 0.8,
        grounding_min_overlap: float = 0.5,
        contamination: ContaminationIndex | None = None,
        master: StandardMaster | None = None,
    ) -> None:
        if kind == "ehr" and master is None:
            raise ValueError("the ehr kind needs a master")
        self.kind, self.master = kind, master
        self.dedup = NearDuplicateIndex(near_duplicate_threshold)
        g = grounding_min_overlap
        self.grounding = GroundingCheck(min_answer_overlap=g, min_option_overlap=g, min_explanation_overlap=g)
        self.contamination = contamination

    def judge(
        self, passage: Passage, completion: Completion
    ) -> tuple[ExamItem | FreeQA | EhrItem | None, list[str], str]:
        """``(item, reasons, detail)``: ``reasons == []`` means accepted (and remembered)."""
        item, reasons, detail = self.rules(passage, completion)
        return item, (reasons if item is None else self.commit(item, reasons)), detail

    def rules(
        self, passage: Passage, completion: Completion
    ) -> tuple[ExamItem | FreeQA | EhrItem | None, list[str], str]:
        """:meth:`judge` without the near-duplicate check; ``item`` is None when nothing parsed."""
        if completion.error is not None:
            return None, [completion.error], completion.detail
        if completion.finish_reason == "length":
            return None, [SYNTH_MAX_TOKENS], f"cut at {completion.completion_tokens} generated tokens"
        if self.kind == "ehr":
            parsed = parse_ehr(completion.text or "")
            if not isinstance(parsed, Rejection):
                parsed = self.master.check(passage.local_name, *parsed)
            return (
                (None, [parsed.reason], parsed.detail) if isinstance(parsed, Rejection) else (parsed, [], "")
            )
        parsed = (parse_exam if self.kind == "exam" else parse_free)(completion.text or "")
        if isinstance(parsed, Rejection):
            return None, [parsed.reason], parsed.detail
        validate = validate_exam if self.kind == "exam" else validate_free
        reasons = validate(
            parsed, passage.text, dedup=None, contamination=self.contamination, grounding=self.grounding
        )
        return parsed, reasons, ""

    def is_duplicate(self, item) -> bool:
        """Whether ``item`` is a near-duplicate of an item accepted so far (nothing is added)."""
        text = _dedup_text(item)
        return text is not None and self.dedup.is_duplicate(text)

    def commit(self, item, reasons: list[str], later: list[str] = ()) -> list[str]:
        """Every reason of a parsed item, in order: the rules', ``synth_duplicate`` against the
        items accepted so far, then ``later`` (the model checks'); with none, the item is
        accepted and remembered."""
        text = _dedup_text(item)
        duplicate = text is not None and self.dedup.is_duplicate(text)
        reasons = [*reasons, *([SYNTH_DUPLICATE] if duplicate else []), *later]
        if not reasons and text is not None:
            self.dedup.add(text)
        return reasons

    def remember(self, row: dict) -> None:
        """Re-add an accepted row of an earlier run to the near-duplicate index (resume)."""
        if self.kind == "exam":
            self.dedup.add(exam_text(ExamItem(row["question"], list(row["options"]), row["answer"], "")))
        elif self.kind == "free":
            self.dedup.add(free_text(FreeQA(row["question"], row["answer"])))


def _dedup_text(item) -> str | None:
    """What the near-duplicate index compares; None for EHR items (one unit per local name)."""
    if isinstance(item, ExamItem):
        return exam_text(item)
    return free_text(item) if isinstance(item, FreeQA) else None


def common_fields(passage: Passage, completion: Completion, run: dict, seed: int) -> dict:
    return {
        "id": f"{passage.key}/{run['prompt_version']}",
        "kind": run["kind"],
        "source_id": passage.doc_id,
        "source": None if passage.signals.get("source") is None else str(passage.signals["source"]),
        "passage_index": passage.index,
        "passage_start": passage.start,
        "passage_end": passage.end,
        "model": run["model"],
        "engine": run["engine"],
        "prompt_version": run["prompt_version"],
        "sampling": json.dumps(run["sampling"], sort_keys=True),
        "seed": seed,
        "finish_reason": completion.finish_reason,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
    }


def ehr_messages(item: EhrItem, template: PromptTemplate) -> list[dict]:
    """Chat messages of an EHR item, laid out by its template's ``item_user``/``item_assistant``."""
    fields = {"local_name": item.local_name, "code": item.code, "standard_name": item.standard_name}
    return [
        {"role": "user", "content": template.extra["item_user"].format(**fields).strip()},
        {"role": "assistant", "content": template.extra["item_assistant"].format(**fields).strip()},
    ]


def accepted_row(
    item: ExamItem | FreeQA | EhrItem,
    passage: Passage,
    common: dict,
    checks: dict | None = None,
    template: PromptTemplate | None = None,
) -> dict:
    """The training row of an accepted item; ``checks``: the model checks' columns;
    ``template``: the prompt template (EHR items are laid out by it)."""
    if isinstance(item, ExamItem):
        fields = {
            "messages": exam_messages(item),
            "question": item.question,
            "options": list(item.options),
            "answer": item.answer,
            "answer_text": item.answer_text,
            "explanation": item.explanation,
        }
    elif isinstance(item, EhrItem):
        fields = {
            "messages": ehr_messages(item, template),
            "question": item.local_name,
            "options": None,
            "answer": item.code,
            "answer_text": item.standard_name,
            "explanation": None,
        }
    else:
        fields = {
            "messages": [
                {"role": "user", "content": item.question},
                {"role": "assistant", "content": item.answer},
            ],
            "question": item.question,
            "options": None,
            "answer": item.answer,
            "answer_text": item.answer,
            "explanation": None,
        }
    return {**common, **fields, "passage": passage.text, **_check_columns(checks)}


def rejected_row(
    completion: Completion, reasons: list[str], detail: str, common: dict, checks: dict | None = None
) -> dict:
    """The row of a rejected generation; ``checks``: the model checks' columns and ``judge_raw``."""
    return {
        **common,
        "reason": reasons[0],
        "reasons": reasons,
        "detail": detail,
        "attempts": completion.attempts,
        "raw": completion.text,
        **_check_columns(checks),
        "judge_raw": (checks or {}).get("judge_raw"),
    }


def _check_columns(checks: dict | None) -> dict:
    return {name: (checks or {}).get(name) for name in CHECK_FIELDS}
