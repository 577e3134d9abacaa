"""Helpers of the tokenize tests: run the command, read shards back with megatron-core, expected ids."""

from __future__ import annotations

import re
import warnings

import pyarrow.parquet as pq

from jmedcorpus.pipelines.tokenize import tokenize
from jmedcorpus.tokenize.settings import DEFAULT_GROUP_BY, TokenizeOptions, group_of


def run(corpus, out, tokenizer, **kw) -> dict:
    kw.setdefault("workers", 2)
    return tokenize(TokenizeOptions(str(corpus), str(out), str(tokenizer), progress=False, **kw))


def megatron_documents(prefix) -> list[list[int]]:
    """Every sequence of a dataset, read by megatron-core's own IndexedDataset."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Transformer Engine and Apex are not installed" on CPU
        from megatron.core.datasets.indexed_dataset import IndexedDataset

    ds = IndexedDataset(str(prefix))
    assert list(ds.document_indices) == list(range(len(ds) + 1))  # one sequence per document
    return [ds[i].tolist() for i in range(len(ds))]


def expected_documents(corpus, tokenizer_dir, group_by=DEFAULT_GROUP_BY) -> dict[str, list[list[int]]]:
    """Per group, in corpus order: transformers' own ids of each kept document, then EOS."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir), use_fast=True, local_files_only=True)
    rows = [r for p in sorted((corpus / "data").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    ids = tok([r["text"] for r in rows], add_special_tokens=False)["input_ids"]
    out: dict[str, list[list[int]]] = {}
    for r, doc in zip(rows, ids):
        out.setdefault(group_of(r["source"], re.compile(group_by)), []).append([*doc, tok.eos_token_id])
    return out
