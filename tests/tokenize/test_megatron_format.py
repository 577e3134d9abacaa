"""Our MMIDIDX writer gives byte for byte what megatron-core's own IndexedDatasetBuilder writes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jmedcorpus.tokenize.megatron import complete_dataset, index_bytes, optimal_dtype, read_index

DOCS = [[5, 17, 2], [2], [300, 301, 302, 303, 2], [65_000, 2]]


def megatron_files(tmp_path, docs, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Transformer Engine and Apex are not installed" on CPU
        import torch
        from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

    prefix = tmp_path / "megatron"
    builder = IndexedDatasetBuilder(str(prefix) + ".bin", dtype=dtype.type)
    for doc in docs:  # what Megatron-LM's preprocess_data.py does for one sequence per document
        builder.add_document(torch.tensor(doc), [len(doc)])
    builder.finalize(str(prefix) + ".idx")
    return (tmp_path / "megatron.bin").read_bytes(), (tmp_path / "megatron.idx").read_bytes()


@pytest.mark.parametrize("vocab", [4000, 151_643])
def test_index_and_data_match_megatron_core(tmp_path, vocab):
    dtype = optimal_dtype(vocab)
    assert dtype.name == ("uint16" if vocab < 65500 else "int32")
    bin_bytes, idx_bytes = megatron_files(tmp_path, DOCS, dtype)
    sizes = np.array([len(d) for d in DOCS], dtype=np.int32)
    assert index_bytes(sizes, dtype) == idx_bytes
    assert np.concatenate([np.array(d, dtype=dtype) for d in DOCS]).tobytes() == bin_bytes
    (tmp_path / "ours.idx").write_bytes(index_bytes(sizes, dtype))
    (tmp_path / "ours.bin").write_bytes(bin_bytes)
    assert read_index(str(tmp_path / "ours.idx"))[0] == dtype
    assert np.array_equal(read_index(str(tmp_path / "ours.idx"))[1], sizes)
    assert complete_dataset(str(tmp_path / "ours"), sizes, dtype)
    assert not complete_dataset(str(tmp_path / "ours"), sizes[:-1], dtype)


def test_empty_dataset_matches_megatron_core(tmp_path):
    dtype = optimal_dtype(100)
    _, idx_bytes = megatron_files(tmp_path, [], dtype)
    assert index_bytes(np.zeros(0, np.int32), dtype) == idx_bytes


def test_truncated_or_foreign_index_is_not_complete(tmp_path):
    dtype = np.dtype(np.uint16)
    sizes = np.array([3, 1], dtype=np.int32)
    (tmp_path / "p.bin").write_bytes(b"\0" * 8)
    (tmp_path / "p.idx").write_bytes(index_bytes(sizes, dtype)[:-3])
    assert not complete_dataset(str(tmp_path / "p"), sizes, dtype)
    (tmp_path / "p.idx").write_bytes(b"PK\x03\x04 not an index")
    with pytest.raises(ValueError, match="not a Megatron MMIDIDX index"):
        read_index(str(tmp_path / "p.idx"))
    (tmp_path / "p.idx").write_bytes(index_bytes(sizes, dtype))
    (tmp_path / "p.bin").write_bytes(b"\0" * 6)  # a .bin cut short
    assert not complete_dataset(str(tmp_path / "p"), sizes, dtype)
