"""Versioned prompt templates for ``jmedcorpus synth`` (package data in ``synth/templates/``).

A template is a YAML file with an ``id`` (the file name, ending in a version: ``exam_mcq_v1``),
a ``kind`` (``exam`` or ``free``, which decides the parser and validators), Japanese ``system`` and
``user`` texts, and the JSON ``schema`` of the expected output for engines that support guided
decoding. A template never changes once released: a new wording is a new file, and every output
row records the template id, so data from different prompts can always be told apart.

Templates produce chat *messages*; the model's own tokenizer turns them into a prompt string
(``apply_chat_template``), so the same template works with any chat model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml

from jmedcorpus.errors import UserError

KINDS = ("exam", "free")


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    kind: str
    system: str
    user: str
    schema: dict

    def messages(self, passage: str) -> list[dict[str, str]]:
        """Chat messages asking for one item about ``passage``.

        >>> m = load_template("exam_mcq_v1").messages("症例は70歳、男性。")
        >>> [x["role"] for x in m], "症例は70歳、男性。" in m[1]["content"]
        (['system', 'user'], True)
        """
        return [
            {"role": "system", "content": self.system.strip()},
            {"role": "user", "content": self.user.format(passage=passage).strip()},
        ]


def available_templates() -> list[str]:
    """Ids of the shipped templates.

    >>> available_templates()
    ['exam_mcq_v1', 'free_qa_v1']
    """
    folder = resources.files("jmedcorpus") / "synth" / "templates"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def load_template(template_id: str) -> PromptTemplate:
    """Load a shipped template; an unknown id is a one-line :class:`UserError`."""
    known = available_templates()
    if template_id not in known:
        raise UserError(f"unknown prompt template {template_id!r}; shipped templates: {', '.join(known)}")
    path = resources.files("jmedcorpus") / "synth" / "templates" / f"{template_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    template = PromptTemplate(data["id"], data["kind"], data["system"], data["user"], data["schema"])
    if template.id != template_id or template.kind not in KINDS:
        raise ValueError(
            f"template file {template_id}.yaml: id must match the file name and kind be one of {KINDS}"
        )
    return template
