"""Prompt templates: shipped as package data, rendered into chat messages, schemas usable."""

import json

import pytest

from jmedcorpus.errors import UserError
from jmedcorpus.synth.prompts import (
    available_check_templates,
    available_templates,
    load_check_template,
    load_template,
)

# what the EHR template and the check prompts fill in besides the passage (braces included)
FIELDS = {"local_name": "T-Bil{x}", "candidates": "3Z108000002327101,総ビリルビン", "item": "問{1}"}


@pytest.mark.parametrize("template_id", available_templates())
def test_every_template_renders_a_passage_with_braces_and_has_a_valid_schema(template_id):
    t = load_template(template_id)
    passage = "CRP {15.2} mg/dL、体温38℃。"  # braces in medical text must not break formatting
    system, user = t.messages(passage, **FIELDS)
    assert system["role"] == "system" and user["role"] == "user"
    assert passage in user["content"] and "{passage}" not in user["content"]
    json.dumps(t.schema)  # JSON-serializable, as engines need it
    assert set(t.schema["required"]) <= set(t.schema["properties"])


@pytest.mark.parametrize(
    ("template_id", "kind", "user"),
    [("judge_v1", "judge", "user"), ("answer_check_v1", "answer_check", "user"),
     ("answer_check_v1", "answer_check", "user_without_passage")],
)  # fmt: skip
def test_check_prompts_render_the_item_and_are_not_generation_templates(template_id, kind, user):
    t = load_check_template(template_id, kind)
    assert t.kind == kind and template_id in available_check_templates(kind)
    assert template_id not in available_templates()  # --template does not offer them
    _, message = t.messages("本文{x}", user=user, **FIELDS)
    assert "問{1}" in message["content"] and ("本文{x}" in message["content"]) == (user == "user")
    assert "{" + "item}" not in message["content"]
    json.dumps(t.schema)


def test_ehr_template_lays_out_the_training_item():
    t = load_template("ehr_lab_name_v1")
    _, user = t.messages("本文", **FIELDS)
    assert "T-Bil{x}" in user["content"] and "3Z108000002327101,総ビリルビン" in user["content"]
    assert {"item_user", "item_assistant"} <= set(t.extra) and t.schema["required"] == [
        "code",
        "standard_name",
    ]


def test_exam_template_asks_for_five_options_and_a_letter():
    t = load_template("exam_mcq_v1")
    assert t.kind == "exam"
    assert t.schema["properties"]["options"]["minItems"] == t.schema["properties"]["options"]["maxItems"] == 5
    assert t.schema["properties"]["answer"]["enum"] == ["a", "b", "c", "d", "e"]


def test_unknown_template_is_one_line():
    with pytest.raises(UserError) as e:
        load_template("exam_v9")
    assert "exam_mcq_v1" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(UserError, match="unknown judge prompt 'judge_v9'; shipped: judge_v1"):
        load_check_template("judge_v9", "judge")
