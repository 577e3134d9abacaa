"""`jmedcorpus tokenize` on the command line: --help, one-line errors with exit code 2, a run."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jmedcorpus.cli import main

OPTIONS = [
    "--tokenizer",
    "--output",
    "--recipe",
    "--eos-id",
    "--shard-tokens",
    "--group-by",
    "--mix",
    "--data-root",
    "--workers",
    "--ray-address",
    "--overwrite",
    "--no-progress",
    "--json",
]


def test_help_has_an_example_for_every_option(capsys):
    with pytest.raises(SystemExit) as e:
        main(["tokenize", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    for option in OPTIONS:
        assert f"e.g. {option}" in flat, option
        assert "jmedcorpus tokenize out/" in out and option in out.split("examples:")[1], option
    assert "--data-args-path" in out and "MMIDIDX" in out


def one_line_error(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("jmedcorpus: error:") and "\n" not in err, err
    assert message in err, err


def test_incomplete_or_missing_build_is_refused(tmp_path, capsys, tokenizer_dir):
    tok = ["--tokenizer", str(tokenizer_dir), "--output", str(tmp_path / "tok")]
    one_line_error(capsys, ["tokenize", str(tmp_path / "nope"), *tok], "no such directory")
    half = tmp_path / "half"
    (half / "data").mkdir(parents=True)
    one_line_error(
        capsys, ["tokenize", str(half), *tok], "no manifest.json, so not a complete `jmedcorpus build`"
    )
    (half / "manifest.json").write_text("{}")
    one_line_error(capsys, ["tokenize", str(half), *tok], "no Parquet shards")
    pq.write_table(pa.table({"messages": ["x"], "question": ["q"]}), half / "data" / "train-00000.parquet")
    one_line_error(capsys, ["tokenize", str(half), *tok], "no text or source column (a synth output?")


@pytest.mark.ray
def test_bad_options_are_one_line_errors(tmp_path, capsys, corpus, tokenizer_dir):
    from transformers import PreTrainedTokenizerFast

    no_eos = tmp_path / "no-eos"
    PreTrainedTokenizerFast.from_pretrained(str(tokenizer_dir), eos_token=None).save_pretrained(no_eos)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = ["--output", str(tmp_path / "tok")]
    base = ["tokenize", str(corpus), *out]
    t = ["--tokenizer", str(tokenizer_dir)]
    for args, message in [
        (base, "--tokenizer is required"),
        ([*base, "--tokenizer", str(tmp_path / "x")], "no such file or directory"),
        ([*base, "--tokenizer", str(empty)], "cannot load a Hugging Face tokenizer"),
        (
            [*base, "--tokenizer", str(no_eos)],
            "defines no eos_token; give the end-of-document id with --eos-id N",
        ),
        ([*base, *t, "--eos-id", "4000"], "--eos-id 4000: outside the tokenizer's vocabulary (0 to 3999)"),
        ([*base, *t, "--mix", "medtxt-cr"], "expected GROUP=WEIGHT"),
        ([*base, *t, "--mix", "medtxt=2"], "no such group (did you mean 'medtxt-cr'?)"),
        ([*base, *t, "--shard-tokens", "0"], "--shard-tokens 0: expected a positive whole number"),
        ([*base, *t, "--group-by", "(["], "--group-by ([: not a regular expression"),
        (
            ["tokenize", str(corpus), *t, "--output", str(corpus.parent / "in")],
            "not a `jmedcorpus tokenize` output",
        ),
        (
            ["tokenize", str(corpus), *t, "--output", str(corpus / "tok")],
            "must not be inside the build's output",
        ),
        ([*base, *t, "--recipe", str(tmp_path / "none.yaml")], "--recipe"),
    ]:
        one_line_error(capsys, args, message)
    shutil.rmtree(tmp_path / "tok", ignore_errors=True)


@pytest.mark.ray
def test_cli_run_prints_json_and_summary(tmp_path, capsys, corpus, tokenizer_dir):
    args = ["tokenize", str(corpus), "-t", str(tokenizer_dir), "-o", str(tmp_path / "tok"), "--no-progress"]
    assert main([*args, "--mix", "medtxt-cr=2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["totals"]["tokens"] > 0 and printed["mix"]["weights"]["medtxt-cr"] == 2.0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "up to date" in out and "--data-args-path" in out and "medtxt-cr" in out
