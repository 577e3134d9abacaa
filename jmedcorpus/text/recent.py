"""What was computed from the last few documents, for the steps after the one that computed it.

A build task runs its documents through the steps in batches, step by step (one step over a
batch of documents, then the next step: MeCab's dictionary and fastText's tables stay in the CPU
cache for a whole batch instead of evicting each other every document). A value one step
computes and a later step reuses (MeCab's tokens, the character-class counts of the ratio
filters) must therefore be remembered for a whole batch, not for the last document only.
"""

from __future__ import annotations

from typing import Generic, TypeVar

V = TypeVar("V")

#: documents a build task runs through the steps together, and the most characters of text in
#: one such batch; the caches keep more than that, so that a batch never evicts its own entries
BATCH_DOCS = 64
BATCH_CHARS = 1 << 20


_ALL: list[RecentTexts] = []


def forget_recent() -> None:
    """Empty every cache of recent texts (MeCab's tokens take ~50 bytes a character: a task
    clears them when it ends, so an idle worker does not hold its last batch's)."""
    for cache in _ALL:
        cache.clear()


class RecentTexts(Generic[V]):
    """A value per text for the most recent texts, looked up by the text itself (an equal
    string finds it; the same object is found without comparing characters).

    Holds at most ``max_texts`` texts of at most ``max_chars`` characters together (the oldest
    go first; a single longer text is still kept, alone), so a batch of long documents cannot
    pin much memory.

    >>> cache = RecentTexts(max_texts=2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.put("c", 3)
    >>> cache.get("a"), cache.get("b"), cache.get("c")
    (None, 2, 3)
    """

    __slots__ = ("_chars", "_items", "max_chars", "max_texts")

    def __init__(self, max_texts: int = 2 * BATCH_DOCS, max_chars: int = 2 * BATCH_CHARS) -> None:
        self.max_texts, self.max_chars = max_texts, max_chars
        self._items: dict[str, V] = {}
        self._chars = 0
        _ALL.append(self)

    def get(self, text: str) -> V | None:
        return self._items.get(text)

    def put(self, text: str, value: V) -> None:
        items = self._items
        if text in items:
            items[text] = value
            return
        items[text] = value
        self._chars += len(text)
        while len(items) > 1 and (len(items) > self.max_texts or self._chars > self.max_chars):
            oldest = next(iter(items))
            del items[oldest]
            self._chars -= len(oldest)

    def clear(self) -> None:
        self._items.clear()
        self._chars = 0
