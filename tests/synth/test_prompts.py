"""Prompt templates: shipped as package data, rendered into chat messages, schemas usable."""

import json

import pytest

from jmedcorpus.errors import UserError
from jmedcorpus.synth.prompts import available_templates, load_template


@pytest.mark.parametrize("template_id", available_templates())
def test_every_template_renders_a_passage_with_braces_and_has_a_valid_schema(template_id):
    t = load_template(template_id)
    passage = "CRP {15.2} mg/dL、体温38℃。"  # braces in medical text must not break formatting
    system, user = t.messages(passage)
    assert system["role"] == "system" and user["role"] == "user"
    assert passage in user["content"] and "{passage}" not in user["content"]
    json.dumps(t.schema)  # JSON-serializable, as engines need it
    assert set(t.schema["required"]) <= set(t.schema["properties"])


def test_exam_template_asks_for_five_options_and_a_letter():
    t = load_template("exam_mcq_v1")
    assert t.kind == "exam"
    assert t.schema["properties"]["options"]["minItems"] == t.schema["properties"]["options"]["maxItems"] == 5
    assert t.schema["properties"]["answer"]["enum"] == ["a", "b", "c", "d", "e"]


def test_unknown_template_is_one_line():
    with pytest.raises(UserError) as e:
        load_template("exam_v9")
    assert "exam_mcq_v1" in str(e.value) and "\n" not in str(e.value)
