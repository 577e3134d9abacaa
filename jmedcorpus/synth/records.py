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

A free QA pair is ``user: question`` / ``assistant: answer``.
"""

from __future__ import annotations

import json

import pyarrow as pa

from jmedcorpus.constants import SYNTH_MAX_TOKENS
from jmedcorpus.synth.contamination import ContaminationIndex
from jmedcorpus.synth.engines.base import Completion
from jmedcorpus.synth.grounding import GroundingCheck
from jmedcorpus.synth.items import LETTERS, ExamItem, FreeQA, Rejection
from jmedcorpus.synth.near_duplicates import NearDuplicateIndex
from jmedcorpus.synth.parsing import parse_exam, parse_free
from jmedcorpus.synth.passages import Passage
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
    options = "\n".join(f"{letter}. {text}" for letter, text in zip(LETTERS, item.options))
    return [
        {"role": "user", "content": f"{item.question}\n{options}"},
        {"role": "assistant", "content": f"正解: {item.answer}\n解説: {item.explanation}"},
    ]


class Judge:
    """Decides each completion, in passage order (the near-duplicate index depends on order).

    Args:
        kind: ``exam`` or ``free`` (the template's kind: which parser and validators).
        near_duplicate_threshold, grounding_min_overlap: see
            :mod:`jmedcorpus.synth.near_duplicates`, :mod:`jmedcorpus.synth.grounding`.
        contamination: benchmark n-grams, or None to skip that check.
    """

    def __init__(
        self,
        kind: str,
        *,
        near_duplicate_threshold: float = 0.8,
        grounding_min_overlap: float = 0.5,
        contamination: ContaminationIndex | None = None,
    ) -> None:
        self.kind = kind
        self.dedup = NearDuplicateIndex(near_duplicate_threshold)
        g = grounding_min_overlap
        self.grounding = GroundingCheck(min_answer_overlap=g, min_option_overlap=g, min_explanation_overlap=g)
        self.contamination = contamination

    def judge(
        self, passage: Passage, completion: Completion
    ) -> tuple[ExamItem | FreeQA | None, list[str], str]:
        """``(item, reasons, detail)``: ``reasons == []`` means accepted (and remembered)."""
        if completion.error is not None:
            return None, [completion.error], completion.detail
        if completion.finish_reason == "length":
            return None, [SYNTH_MAX_TOKENS], f"cut at {completion.completion_tokens} generated tokens"
        parsed = (parse_exam if self.kind == "exam" else parse_free)(completion.text or "")
        if isinstance(parsed, Rejection):
            return None, [parsed.reason], parsed.detail
        validate = validate_exam if self.kind == "exam" else validate_free
        reasons = validate(
            parsed, passage.text, dedup=self.dedup, contamination=self.contamination, grounding=self.grounding
        )
        return parsed, reasons, ""

    def remember(self, row: dict) -> None:
        """Re-add an accepted row of an earlier run to the near-duplicate index (resume)."""
        if self.kind == "exam":
            self.dedup.add(exam_text(ExamItem(row["question"], list(row["options"]), row["answer"], "")))
        else:
            self.dedup.add(free_text(FreeQA(row["question"], row["answer"])))


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


def accepted_row(item: ExamItem | FreeQA, passage: Passage, common: dict) -> dict:
    if isinstance(item, ExamItem):
        fields = {
            "messages": exam_messages(item),
            "question": item.question,
            "options": list(item.options),
            "answer": item.answer,
            "answer_text": item.answer_text,
            "explanation": item.explanation,
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
    return {**common, **fields, "passage": passage.text}


def rejected_row(completion: Completion, reasons: list[str], detail: str, common: dict) -> dict:
    return {
        **common,
        "reason": reasons[0],
        "reasons": reasons,
        "detail": detail,
        "attempts": completion.attempts,
        "raw": completion.text,
    }
