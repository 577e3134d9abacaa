"""Options, groups and weights of `jmedcorpus tokenize`; the mix arithmetic."""

from __future__ import annotations

import re

import pytest

from jmedcorpus.errors import UserError
from jmedcorpus.tokenize.mixing import blend
from jmedcorpus.tokenize.settings import (
    DEFAULT_GROUP_BY,
    group_of,
    load_recipe_section,
    parse_count,
    parse_mix,
    resolve_options,
    weights_for,
)


@pytest.mark.parametrize(
    "source, group",
    [
        ("medtxt-cr", "medtxt-cr"),
        ("pmc/oa_comm/PMC123.nxml", "pmc"),
        ("症例報告/2024.jsonl", "症例報告"),
        ("notes export.jsonl", "notes_export.jsonl"),
        (".hidden/x", "hidden"),
        ("", "other"),
    ],
)
def test_default_group_is_the_first_path_component(source, group):
    assert group_of(source, re.compile(DEFAULT_GROUP_BY)) == group


@pytest.mark.parametrize("text", ["0", "-5", "1.5", "abc", "1e400", "M"])
def test_bad_shard_tokens_are_one_line_errors(text):
    with pytest.raises(UserError, match="expected a positive whole number of tokens"):
        parse_count(text)


@pytest.mark.parametrize("item", ["medtxt-cr", "=2", "medtxt-cr=x", "medtxt-cr=-1", "a=nan"])
def test_bad_mix_entries_are_one_line_errors(item):
    with pytest.raises(UserError, match=r"--mix"):
        parse_mix([item])


def test_weights_default_to_one_and_name_known_groups():
    groups = ["igakuqa", "medtxt-cr", "synth-qa"]
    assert weights_for(groups, {"medtxt-cr": 2}) == {"igakuqa": 1.0, "medtxt-cr": 2, "synth-qa": 1.0}
    assert weights_for(groups, {"*": 0, "synth-qa": 1}) == {"igakuqa": 0, "medtxt-cr": 0, "synth-qa": 1}
    with pytest.raises(UserError, match=r"--mix medtxt: no such group \(did you mean 'medtxt-cr'\?\)"):
        weights_for(groups, {"medtxt": 2})
    with pytest.raises(UserError, match="every group has weight 0"):
        weights_for(groups, {"*": 0})


def test_blend_weights_are_sampling_shares_of_weighted_tokens():
    shards = [
        {"group": "a", "prefix": "a/part-00000", "tokens": 300},
        {"group": "a", "prefix": "a/part-00001", "tokens": 100},
        {"group": "b", "prefix": "b/part-00000", "tokens": 200},
        {"group": "c", "prefix": "c/part-00000", "tokens": 50},
    ]
    text, shares = blend(shards, {"a": 1.0, "b": 2.0, "c": 0.0}, "/data/tok")
    assert text == "0.375 /data/tok/a/part-00000\n0.125 /data/tok/a/part-00001\n0.5 /data/tok/b/part-00000\n"
    assert shares == {"a": 0.5, "b": 0.5, "c": 0.0}


def test_recipe_section_and_command_line(tmp_path):
    recipe = tmp_path / "mix.yaml"
    recipe.write_text(
        "tokenize:\n  tokenizer: /models/t\n  shard_tokens: 500M\n  mix: {medtxt-cr: 2, igakuqa: 1}\n",
        encoding="utf-8",
    )
    opts = resolve_options(str(recipe), "out", "tok", mix=["igakuqa=0.5"], shard_tokens=None, eos_id=7)
    assert opts.tokenizer == "/models/t" and opts.shard_tokens == 500_000_000 and opts.eos_id == 7
    assert opts.mix == {"medtxt-cr": 2.0, "igakuqa": 0.5}
    opts = resolve_options(str(recipe), "out", "tok", mix=[], shard_tokens="1e3", tokenizer="/other")
    assert opts.tokenizer == "/other" and opts.shard_tokens == 1000


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "tokenize:\n  shard_tokenz: 5\n",
            "tokenize.shard_tokenz: unknown key (did you mean 'shard_tokens'?)",
        ),
        ("mix: {a: 1}\n", "expected a mapping with a tokenize: section"),
        ("tokenize:\n  mix: {a: -1}\n", "tokenize.mix.a: the weight must be a number >= 0"),
        ("tokenize:\n  eos_id: two\n", "tokenize.eos_id: expected an integer"),
        ("tokenize: [\n", "not valid YAML"),
    ],
)
def test_bad_recipe_is_one_line_error(tmp_path, body, message):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(body, encoding="utf-8")
    with pytest.raises(UserError, match=re.escape(message)):
        load_recipe_section(str(recipe))
