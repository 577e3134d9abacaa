"""Work units and the tokenizing task, without Ray: cutting by size, any column order, nulls."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jmedcorpus.tokenize.settings import DEFAULT_GROUP_BY
from jmedcorpus.tokenize.units import RESULT, load_sizes, plan_units, tokenize_unit

TEXTS = ["症例は70歳、男性。", "", "発熱と咳嗽を主訴に来院した。", "胸部CTで肺炎を認めた。"]
SOURCES = ["medtxt-cr", None, "igakuqa", "medtxt-cr"]


def test_units_cut_row_groups_by_text_size(tmp_path):
    path = tmp_path / "train-00000.parquet"
    texts = [f"{i:04d}" + "あ" * 1000 for i in range(400)]  # distinct documents of ~3 KB
    pq.write_table(pa.table({"text": texts, "source": ["s"] * 400}), path, row_group_size=300)
    units = plan_units([str(path)], unit_mb=0.5)
    meta = pq.ParquetFile(path).metadata
    for rg, rows in ((0, 300), (1, 100)):
        cut = [(u.start, u.stop) for u in units if u.row_group == rg]
        n = math.ceil(meta.row_group(rg).column(0).total_uncompressed_size / 0.5e6)
        assert n >= 1 + (rg == 0) and len(cut) == n  # ~0.9 MB of text in row group 0: 2 units
        assert cut[0][0] == 0 and cut[-1][1] == rows and all(a[1] == b[0] for a, b in itertools.pairwise(cut))
    assert plan_units([str(path)], unit_mb=0.5) == units  # by size only: the same every time


def test_task_reads_columns_by_name_and_groups_documents(tmp_path, tokenizer_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir), use_fast=True, local_files_only=True)
    backend = tmp_path / "tokenizer.json"
    backend.write_text(tok.backend_tokenizer.to_str(), encoding="utf-8")
    path = tmp_path / "swapped.parquet"  # source before text, a null source, an empty text
    pq.write_table(pa.table({"source": SOURCES, "text": TEXTS, "id": ["a", "b", "c", "d"]}), path)
    (unit,) = plan_units([str(path)], unit_mb=32)
    eos = tok.eos_token_id
    settings = {"eos_id": eos, "dtype": "uint16", "group_by": DEFAULT_GROUP_BY, "fault": None}
    result = tokenize_unit(unit, str(tmp_path / "u"), str(backend), settings)
    ids = tok(TEXTS, add_special_tokens=False)["input_ids"]
    expected = {"medtxt-cr": [ids[0] + [eos], ids[3] + [eos]], "other": [[eos]], "igakuqa": [ids[2] + [eos]]}
    assert set(result["groups"]) == set(expected)
    for group, docs in expected.items():
        sizes = load_sizes(str(tmp_path / "u"), group)
        assert sizes.tolist() == [len(d) for d in docs]
        stored = np.fromfile(tmp_path / "u" / f"{group}.bin", dtype=np.uint16).tolist()
        assert stored == [t for d in docs for t in d]
    assert result["sources"][""] == ["other", 1, 1]
    assert json.loads((tmp_path / "u" / RESULT).read_text())["groups"] == result["groups"]
