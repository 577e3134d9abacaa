"""Recipes: the shipped one loads; every mistake is one line naming the key and the fix."""

import pytest

from jmedcorpus.recipe import RecipeError, load_recipe, recipe_from_dict


def test_shipped_recipe_is_the_default_and_resolves_every_parameter():
    recipe = load_recipe()
    assert recipe.name == "ja_medical"
    resolved = recipe.to_dict()
    uses = [s["use"] for s in resolved["steps"]]
    assert uses[:4] == ["normalize", "personal_info", "mecab", "language"]
    assert uses[-2:] == ["exact_dedup", "minhash_dedup"]
    assert resolved["steps"][3]["min_score"] == 0.5
    assert len(recipe.build_steps()) == len(uses)


def minimal(**step):
    return {"name": "t", "steps": [{"use": "normalize"}, {"use": "language", **step}]}


@pytest.mark.parametrize(
    "data, message",
    [
        (minimal(min_scor=0.5), "steps[1] (language): unknown key 'min_scor' (did you mean 'min_score'?)"),
        (minimal(min_score="high"), "steps[1] (language).min_score: expected a number, got str 'high'"),
        (minimal(min_score=1.5), "steps[1] (language): min_score must be in [0, 1], got 1.5; fix the value"),
        (minimal(languages="ja"), "steps[1] (language).languages: expected a list"),
        (minimal(drop_other_paragraphs="yes"), "expected true or false"),
        (
            {"name": "t", "steps": [{"use": "hiragana_ration"}]},
            "unknown step 'hiragana_ration' (did you mean 'hiragana_ratio'?)",
        ),
        ({"name": "t", "stepz": []}, "stepz: unknown key (did you mean 'steps'?)"),
        ({"name": "t", "steps": []}, "steps: expected a non-empty list"),
        ({"name": "t", "steps": ["normalize"]}, "steps[0]: expected a mapping with 'use: STEP_NAME'"),
        (
            {"name": "t", "input": {"chunk_mb": -1}, "steps": [{"use": "normalize"}]},
            "input.chunk_mb must be > 0",
        ),
        (
            {"name": "t", "input": {"text_feld": "body"}, "steps": [{"use": "normalize"}]},
            "input.text_feld: unknown key (did you mean 'text_field'?)",
        ),
        (
            {"name": "t", "output": {"compression": "lz5"}, "steps": [{"use": "normalize"}]},
            "output.compression must be one of",
        ),
        (
            {"name": "t", "recipe_version": 9, "steps": [{"use": "normalize"}]},
            "recipe_version 9 is not supported",
        ),
        (
            {"name": "t", "steps": [{"use": "exact_dedup"}, {"use": "normalize"}]},
            "must come before global steps such as exact_dedup",
        ),
        (
            {"name": "t", "steps": [{"use": "exact_dedup"}, {"use": "exact_dedup"}]},
            "steps[1] (exact_dedup): a global step may appear once",
        ),
    ],
)
def test_errors_are_one_line_with_key_and_fix(data, message):
    with pytest.raises(RecipeError) as e:
        recipe_from_dict(data, source="r.yaml")
    text = str(e.value)
    assert message in text and text.startswith("recipe r.yaml: ") and "\n" not in text


def test_yaml_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - use: normalize\n   - use: mecab\n")
    with pytest.raises(RecipeError, match="not valid YAML at line"):
        load_recipe(str(bad))
    with pytest.raises(RecipeError, match="no such file"):
        load_recipe(str(tmp_path / "nope.yaml"))
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("name: !!python/object/apply:os.system ['true']\nsteps: [{use: normalize}]\n")
    with pytest.raises(RecipeError):  # safe loader only: a recipe cannot run code
        load_recipe(str(unsafe))
