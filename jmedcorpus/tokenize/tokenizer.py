"""The Hugging Face tokenizer: loaded once in the driver, encoded with in the Ray tasks.

The driver loads it with ``AutoTokenizer.from_pretrained(path, use_fast=True,
local_files_only=True)`` (nothing is downloaded), checks that it is a fast tokenizer with an EOS
id, and saves its Rust backend as it stands after loading (added tokens and the settings
``tokenizer_config.json`` applies included) to ``TOK/.work/tokenizer.json``. The tasks load that
file with the ``tokenizers`` library alone (no transformers import per worker) and encode in
batches with ``encode_batch_fast(texts, add_special_tokens=False)``, one core each
(``TOKENIZERS_PARALLELISM=false``: Ray gives every task one CPU). Before any work the driver
checks, on the corpus's first documents, that this gives exactly what
``tokenizer(texts, add_special_tokens=False)["input_ids"]`` gives.

The tokenizer's identity is the sha256 of that serialized backend plus the EOS id: a different
vocabulary, merges, normalizer or added token is a different tokenizer.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from itertools import chain, repeat

import numpy as np

from jmedcorpus.errors import UserError
from jmedcorpus.tokenize.megatron import optimal_dtype

PARITY_DOCUMENTS = 32  # documents checked against transformers' own call before any work


@dataclass
class TokenizerInfo:
    path: str
    sha256: str  # of the serialized fast tokenizer (tokenizer.json as loaded)
    vocab_size: int  # ids the tokenizer can produce: len(tokenizer), added tokens included
    eos_id: int
    eos_token: str | None
    dtype: str  # of the .bin files: uint16 below 65,500 ids, else int32 (Megatron's rule)
    tokenizer_class: str

    def to_dict(self) -> dict:
        return asdict(self)


def check_tokenizer_path(path: str) -> None:
    if not os.path.exists(path):
        raise UserError(
            f"--tokenizer {path}: no such file or directory; give a local tokenizer or model directory"
        )


def load_tokenizer(path: str, eos_id: int | None):
    """``(info, tokenizer)``: the transformers tokenizer at ``path``; one-line UserErrors."""
    check_tokenizer_path(path)
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise UserError(
            "jmedcorpus tokenize needs transformers; run: pip install -c constraints.txt -e '.[tokenize]'"
        ) from None
    try:
        tok = AutoTokenizer.from_pretrained(path, use_fast=True, local_files_only=True)
    except Exception as e:  # noqa: BLE001 - transformers raises many types; all mean "cannot load"
        first = (str(e).strip().splitlines() or [""])[0][:160]
        raise UserError(
            f"--tokenizer {path}: cannot load a Hugging Face tokenizer ({type(e).__name__}: {first}); "
            "give a directory holding tokenizer.json or tokenizer_config.json"
        ) from None
    if not getattr(tok, "is_fast", False):
        raise UserError(
            f"--tokenizer {path}: {type(tok).__name__} has no fast (Rust) version; save one with "
            "tokenizer.save_pretrained() from a PreTrainedTokenizerFast (tokenizer.json)"
        )
    backend = tok.backend_tokenizer
    vocab = max(len(tok), backend.get_vocab_size(with_added_tokens=True))
    eos = eos_id if eos_id is not None else tok.eos_token_id
    if eos is None:
        raise UserError(
            f"--tokenizer {path}: the tokenizer defines no eos_token; give the end-of-document id with --eos-id N"
        )
    if not 0 <= eos < vocab:
        raise UserError(f"--eos-id {eos}: outside the tokenizer's vocabulary (0 to {vocab - 1})")
    serialized = backend.to_str()
    info = TokenizerInfo(
        path=os.path.abspath(path),
        sha256=hashlib.sha256(serialized.encode("utf-8")).hexdigest(),
        vocab_size=vocab,
        eos_id=int(eos),
        eos_token=backend.id_to_token(int(eos)),
        dtype=optimal_dtype(vocab).name,
        tokenizer_class=type(tok).__name__,
    )
    return info, tok


def check_parity(tok, texts: list[str]) -> None:
    """The tasks' encoding must equal transformers' own call on ``texts``; a UserError otherwise."""
    expected = tok(texts, add_special_tokens=False)["input_ids"]
    got = [e.ids for e in _encode_batch(tok.backend_tokenizer, texts)]
    if got != expected:
        bad = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        raise UserError(
            f"--tokenizer {tok.name_or_path}: {type(tok).__name__} changes text in Python before its fast "
            f"backend (document {bad} of the first {len(texts)} differs); such tokenizers are not supported"
        )


_BACKENDS: dict = {}


def load_backend(path: str):
    """The ``tokenizers.Tokenizer`` saved at ``path``, loaded once per process."""
    key = (path, os.path.getmtime(path))
    if key not in _BACKENDS:
        from tokenizers import Tokenizer

        _BACKENDS.clear()
        _BACKENDS[key] = Tokenizer.from_file(path)
    return _BACKENDS[key]


def _encode_batch(backend, texts: list[str]):
    fast = getattr(backend, "encode_batch_fast", None)  # tokenizers >= 0.21: no offsets computed
    return (fast or backend.encode_batch)(texts, add_special_tokens=False)


def encode_documents(
    backend, texts: list[str], eos_id: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, sizes)``: every document's token ids followed by ``eos_id``, back to back in
    ``dtype``, and the tokens per document (EOS included)."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one core per Ray task
    ids = [e.ids for e in _encode_batch(backend, texts)]
    sizes = np.fromiter(map(len, ids), dtype=np.int32, count=len(ids)) + 1
    total = int(sizes.sum(dtype=np.int64))
    eos = [eos_id]
    flat = np.fromiter(
        chain.from_iterable(chain.from_iterable(zip(ids, repeat(eos)))), dtype=dtype, count=total
    )
    return flat, sizes
