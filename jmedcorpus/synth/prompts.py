"""Versioned prompt templates for ``jmedcorpus synth`` (package data in ``synth/templates/``).

A template is a YAML file with an ``id`` (the file name, ending in a version: ``exam_mcq_v1``),
a ``kind`` (``exam``, ``free`` or ``ehr``, which decides the parser and validators), Japanese
``system`` and ``user`` texts, and the JSON ``schema`` of the expected output for engines that
support guided decoding. Other keys are kind-specific texts (``extra``: the EHR template's
training-message layout, the answer check's prompt without the passage). A template never changes once released: a new wording is a new file, and every output
row records the template id, so data from different prompts can always be told apart.

Templates produce chat *messages*; the model's own tokenizer turns them into a prompt string
(``apply_chat_template``), so the same template works with any chat model.

The prompts of the model checks (``templates/checks/``: the judge's rubric ``judge_v1``, the
answer check's ``answer_check_v1``) are versioned the same way and loaded by
:func:`load_check_template`; they are not generation templates (``--template`` does not list them).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources

import yaml

from jmedcorpus.errors import UserError

KINDS = ("exam", "free", "ehr")
CHECK_KINDS = ("judge", "answer_check")


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    kind: str
    system: str
    user: str
    schema: dict
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def messages(self, passage: str, *, user: str = "user", **fields: str) -> list[dict[str, str]]:
        """Chat messages asking for one item about ``passage``; ``fields`` fill the template's
        other placeholders (the EHR template's ``local_name``, ``candidates``), ``user`` names
        another user text of the file (an ``extra`` key).

        >>> m = load_template("exam_mcq_v1").messages("症例は70歳、男性。")
        >>> [x["role"] for x in m], "症例は70歳、男性。" in m[1]["content"]
        (['system', 'user'], True)
        """
        text = self.user if user == "user" else self.extra[user]
        return [
            {"role": "system", "content": self.system.strip()},
            {"role": "user", "content": text.format(passage=passage, **fields).strip()},
        ]


def available_templates() -> list[str]:
    """Ids of the shipped templates.

    >>> available_templates()
    ['ehr_lab_name_v1', 'exam_mcq_v1', 'free_qa_v1']
    """
    folder = resources.files("jmedcorpus") / "synth" / "templates"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def load_template(template_id: str) -> PromptTemplate:
    """Load a shipped template; an unknown id is a one-line :class:`UserError`."""
    known = available_templates()
    if template_id not in known:
        raise UserError(f"unknown prompt template {template_id!r}; shipped templates: {', '.join(known)}")
    return _read(resources.files("jmedcorpus") / "synth" / "templates", template_id, KINDS)


def available_check_templates(kind: str) -> list[str]:
    """Ids of the shipped prompts of one model check (``judge``: the rubrics).

    >>> available_check_templates("judge")
    ['judge_v1']
    """
    folder = resources.files("jmedcorpus") / "synth" / "templates" / "checks"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.startswith(f"{kind}_v"))


@functools.cache
def load_check_template(template_id: str, kind: str) -> PromptTemplate:
    """Load a shipped model-check prompt (``judge_v1``, ``answer_check_v1``); an unknown id is
    a one-line :class:`UserError`."""
    known = available_check_templates(kind)
    if template_id not in known:
        raise UserError(f"unknown {kind} prompt {template_id!r}; shipped: {', '.join(known)}")
    return _read(resources.files("jmedcorpus") / "synth" / "templates" / "checks", template_id, (kind,))


def _read(folder, template_id: str, kinds: tuple[str, ...]) -> PromptTemplate:
    data = yaml.safe_load((folder / f"{template_id}.yaml").read_text(encoding="utf-8"))
    fixed = {k: data.pop(k) for k in ("id", "kind", "system", "user", "schema")}
    template = PromptTemplate(**fixed, extra=data)
    if template.id != template_id or template.kind not in kinds:
        raise ValueError(
            f"template file {template_id}.yaml: id must match the file name and kind be one of {kinds}"
        )
    return template
