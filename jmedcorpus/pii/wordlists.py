"""The packaged word lists the personal-information finders read (``jmedcorpus/text/*.txt``)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def read_word_list(name: str) -> tuple[str, ...]:
    """The entries of ``jmedcorpus/text/<name>``, in file order: one per line, ``#`` starts a comment
    (also after an entry), blank lines are skipped.

    >>> "高安動脈炎" in read_word_list("eponyms_ja.txt")
    True
    """
    text = files("jmedcorpus.text").joinpath(name).read_text(encoding="utf-8")
    entries = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(e for e in entries if e)
