"""The medical-domain model: weights over the hashed feature space, its score and its file.

``score = sigmoid(bias + mean weight of the document's distinct features)`` (features:
:mod:`jmedcorpus.domain.features`); a document without any feature (no kanji, katakana or Latin
word: digits, punctuation, hiragana only) scores 0.0.

File format (written atomically, byte-identical for identical weights: no timestamps, sorted
JSON): the line ``JMEDCORPUS-DOMAIN``, a 4-byte little-endian header length, the UTF-8 JSON
header (``format``, ``features``, ``bits``, ``bias``, ``floor``, ``training``), then the
``2**bits`` weights as little-endian float16, zlib-compressed.
"""

from __future__ import annotations

import functools
import json
import math
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files

import numpy as np

from jmedcorpus.domain.features import FEATURES_VERSION, feature_indices

MAGIC = b"JMEDCORPUS-DOMAIN\n"
FORMAT = 1
SHIPPED_MODEL = "medical_domain_v1.bin"
MIN_BITS, MAX_BITS = 10, 24


@dataclass(frozen=True)
class DomainModel:
    """Weights (float32, ``2**bits``, already rounded to float16 as stored), bias and the
    header's ``floor`` (the score the model's card recommends as a cut) and ``training`` record."""

    weights: np.ndarray
    bias: float
    bits: int
    floor: float = 0.5
    training: dict = field(default_factory=dict)

    def score_indices(self, indices: np.ndarray) -> float:
        if indices.size == 0:
            return 0.0
        z = self.bias + float(self.weights[indices].mean(dtype=np.float64))
        return 1.0 / (1.0 + math.exp(-min(max(z, -50.0), 50.0)))

    def score(self, text: str, tokens: Sequence[str]) -> float:
        """The medical score in [0, 1] of ``text`` given its MeCab tokens."""
        return self.score_indices(feature_indices(text, tokens, self.bits))


def rounded(weights: np.ndarray) -> np.ndarray:
    """Weights as the file stores them (float16), back in float32 for scoring."""
    return np.asarray(weights, dtype="<f2").astype(np.float32)


def to_bytes(model: DomainModel) -> bytes:
    header = {
        "format": FORMAT,
        "features": FEATURES_VERSION,
        "bits": model.bits,
        "bias": model.bias,
        "floor": model.floor,
        "weights": "float16 little-endian, zlib",
        "training": model.training,
    }
    head = json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8")
    body = zlib.compress(np.asarray(model.weights, dtype="<f2").tobytes(), 9)
    return MAGIC + struct.pack("<I", len(head)) + head + body


def save_model(model: DomainModel, path: str) -> None:
    """Write ``model`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(to_bytes(model))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_model(path: str) -> DomainModel:
    """Load a model file; ``ValueError`` with a one-line message (naming the path only) when it
    is missing, not a domain model, damaged, or made for other features."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ValueError(f"model {path}: cannot read it ({e.strerror or e})") from None
    fix = "give a file written by `jmedcorpus train-domain`"
    if not data.startswith(MAGIC):
        raise ValueError(f"model {path}: not a jmedcorpus domain model; {fix}")
    try:
        (n,) = struct.unpack_from("<I", data, len(MAGIC))
        start = len(MAGIC) + 4
        header = json.loads(data[start : start + n].decode("utf-8"))
        bits = int(header["bits"])
        raw = zlib.decompress(data[start + n :])
        if header.get("format") != FORMAT or not MIN_BITS <= bits <= MAX_BITS or len(raw) != 2 << bits:
            raise ValueError("format")
        weights = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        model = DomainModel(weights, float(header["bias"]), bits, float(header["floor"]), header["training"])
    except (ValueError, KeyError, TypeError, struct.error, zlib.error, UnicodeDecodeError):
        raise ValueError(f"model {path}: damaged or of an unknown format; {fix}") from None
    if header.get("features") != FEATURES_VERSION:
        raise ValueError(
            f"model {path}: made for features {header.get('features')!r}, this jmedcorpus computes "
            f"{FEATURES_VERSION!r}; retrain it with `jmedcorpus train-domain`"
        )
    return model


def shipped_model_path() -> str:
    """Path of the model shipped with the package (see ``MODEL_CARD.md`` beside it)."""
    return str(files("jmedcorpus.domain").joinpath(SHIPPED_MODEL))


@functools.cache
def load_model(path: str | None = None) -> DomainModel:
    """The process's one copy of the model at ``path`` (None: the shipped one)."""
    return read_model(path or shipped_model_path())
