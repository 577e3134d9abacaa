"""``jmedcorpus train-domain``: trains on labelled JSONL, reports held-out metrics, writes the same
file twice, skips malformed records with counts, and fails in one line with exit code 2."""

import json

import pytest
from conftest import read_jsonl

from jmedcorpus.cli import main
from jmedcorpus.domain.model import read_model

TINY = ["--bits", "12", "--iterations", "60", "--floor", "0.5"]  # fast; --floor auto is tested once


@pytest.fixture(scope="module")
def records(data_dir) -> list[dict]:
    medical = read_jsonl(data_dir / "case_reports_ja.jsonl") + read_jsonl(data_dir / "igakuqa_ja.jsonl")
    general = read_jsonl(data_dir / "wikipedia_ja.jsonl")
    return [{"text": r["text"], "label": "medical", "t": r["id"]} for r in medical] + [
        {"text": r["text"], "label": 0, "t": r["title"]} for r in general
    ]


def write(path, records, extra_lines=()):
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + list(extra_lines)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
    return str(path)


def test_trains_reports_and_writes_the_same_file_twice(tmp_path, records, capsys):
    data = write(tmp_path / "l.jsonl", records)
    outs = []
    for name in ("a.bin", "b.bin"):
        argv = [
            "train-domain",
            "--input",
            data,
            "--output",
            str(tmp_path / name),
            "--group-field",
            "t",
            *TINY,
        ]
        assert main(argv) == 0
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
    out = capsys.readouterr().out
    assert "held-out ROC AUC" in out and "medical kept (recall)" in out and "precision" in out
    assert not any(r["text"][:20] in out for r in records)  # counts and ids only, never text
    model = read_model(str(tmp_path / "a.bin"))
    assert model.bits == 12 and model.floor == 0.5
    assert model.training["records"]["held_out"] > 0 and "roc_auc" in model.training["held_out_metrics"]


def test_floor_auto_is_chosen_on_the_training_split(tmp_path, records, capsys):
    data = write(tmp_path / "l.jsonl", records)
    argv = [
        "train-domain",
        "--input",
        data,
        "--output",
        str(tmp_path / "m.bin"),
        "--bits",
        "12",
        "--iterations",
        "40",
    ]
    assert main(argv) == 0
    model = read_model(str(tmp_path / "m.bin"))
    assert model.floor in [round(0.05 * i, 2) for i in range(1, 20)]
    assert model.training["floor_chosen_by"]["floor"] == model.floor
    assert "cross-validation on the training split" in capsys.readouterr().out


def test_malformed_records_are_skipped_and_counted(tmp_path, records, capsys):
    bad = [
        "{not json",
        "[1, 2]",
        json.dumps({"label": 1}),
        json.dumps({"text": "肝機能障害を認めた。", "label": "maybe"}),
        json.dumps({"text": "肝機能障害を認めた。", "label": True}),
        json.dumps({"text": "。。。", "label": 1}),
    ]
    data = write(tmp_path / "l.jsonl", records, bad)
    assert main(["train-domain", "--input", data, "--output", str(tmp_path / "m.bin"), *TINY]) == 0
    out = capsys.readouterr().out
    for count in ("bad_label 2", "invalid_json 1", "not_an_object 1", "missing_text 1", "no_content_words 1"):
        assert count in out
    assert "肝機能障害" not in out


def test_holdout_zero_trains_on_everything(tmp_path, records, capsys):
    data = write(tmp_path / "l.jsonl", records)
    assert (
        main(["train-domain", "--input", data, "--output", str(tmp_path / "m.bin"), "--holdout", "0", *TINY])
        == 0
    )
    assert "no held-out metrics" in capsys.readouterr().out
    assert read_model(str(tmp_path / "m.bin")).training["records"]["held_out"] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input", "/nonexistent/l.jsonl"], "--input /nonexistent/l.jsonl: no such file"),
        (["--holdout", "1.5"], "--holdout must be in [0, 0.9]"),
        (["--floor", "high"], "--floor must be auto or a number in [0, 1]"),
        (["--bits", "40"], "--bits must be in [10, 24]"),
        (["--output", "/nonexistent/dir/m.bin"], "does not exist; create it first"),
        (["--label-field", "kind"], "need both medical (1) and general (0) records"),
    ],
)
def test_user_errors_are_one_line_exit_2(tmp_path, records, capsys, args, message):
    data = write(tmp_path / "l.jsonl", records)
    argv = ["train-domain", "--input", data, "--output", str(tmp_path / "m.bin"), *TINY, *args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("jmedcorpus: error:") and message in err and "\n" not in err
    assert not (tmp_path / "m.bin").exists()


def test_one_class_only_is_a_one_line_error(tmp_path, records, capsys):
    data = write(tmp_path / "l.jsonl", [r for r in records if r["label"] == "medical"])
    assert main(["train-domain", "--input", data, "--output", str(tmp_path / "m.bin"), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert "need both medical (1) and general (0) records" in err and "\n" not in err


def test_help_explains_every_option_with_an_example(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train-domain", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    section = out.split("options:", 1)[1].split("examples:", 1)[0]
    blocks = {}  # option -> its help text (argparse wraps it over several lines)
    for line in section.splitlines():
        if line.startswith("  -"):
            option = next(w.strip(",") for w in line.split() if w.startswith("--"))
            blocks[option] = line
        elif blocks:
            blocks[option] += " " + line.strip()
    expected = {
        "--input",
        "--output",
        "--text-field",
        "--label-field",
        "--group-field",
        "--holdout",
        "--seed",
        "--floor",
        "--bits",
        "--l2",
        "--iterations",
    }
    assert set(blocks) == expected | {"--help"}
    assert all("e.g." in blocks[o] for o in expected)
    assert (
        "examples:" in out and "jmedcorpus train-domain --input labelled.jsonl --output my_domain.bin" in out
    )
