"""An engine that answers from a script: the model checks' logic tested with outputs the test
chooses, through the real engine interface (``Engine.generate``), request cache and pipeline.

``respond(request)`` returns the output text (or a ``Completion``, e.g. an engine error); every
request received is recorded in ``received`` (its key), so a test can assert what was sent and
that a resumed run sent nothing. :func:`grounded_exam_item` writes, for any passage, an exam
item that passes every rule (its options are clauses of the passage, its key ``a``): the
checks then run on it whatever the passage is.
"""

from __future__ import annotations

import json
import re
import threading
import zlib

from jmedcorpus.synth.engines.base import Completion, Engine
from jmedcorpus.synth.items import option_key

QUESTION = "本症例について、本文の記載に合うのはどれか。"


class ScriptedEngine(Engine):
    name = "scripted"
    concurrent_calls = 1

    def __init__(self, respond, model: str = "scripted-model") -> None:
        self.respond, self.model = respond, model
        self.received: list[str] = []
        self._lock = threading.Lock()
        self.calls = 0
        self.active = 0
        self.max_active = 0  # generate() calls running at once: must stay <= concurrent_calls

    def generate(self, requests):
        with self._lock:
            self.calls += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            for r in requests:
                with self._lock:
                    self.received.append(r.key)
                out = self.respond(r)
                if isinstance(out, Completion):
                    yield out
                else:
                    yield Completion(r.key, out, "stop", prompt_tokens=10, completion_tokens=len(out))
        finally:
            with self._lock:
                self.active -= 1


def passage_of(request) -> str:
    """The passage text of a generation request (the exam template's 【本文】 block)."""
    user = request.messages[-1]["content"]
    return user.split("【本文】", 1)[1].split("出力は", 1)[0].strip()


def grounded_exam_item(passage: str) -> str | None:
    """A JSON exam item built from ``passage`` that passes the rules (key ``a``), or None when the
    passage has fewer than 5 distinct clauses of 6-60 characters."""
    clauses, keys = [], set()
    for c in re.split(r"[。．.，,、\n]", passage):
        c = c.strip()
        if 6 <= len(c) <= 60 and option_key(c) not in keys:
            keys.add(option_key(c))
            clauses.append(c)
    if len(clauses) < 5:
        return None
    item = {
        "question": QUESTION,
        "options": clauses[:5],
        "answer": "a",
        "explanation": f"本文には「{clauses[0]}」と記載されている。",
    }
    return json.dumps(item, ensure_ascii=False)


def scenario(passage_key: str, n: int) -> int:
    """A scenario number in [0, n) fixed by the passage key (not by the run or the order)."""
    return zlib.crc32(passage_key.encode()) % n
