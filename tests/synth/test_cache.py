"""The request cache survives a kill mid-line and never remembers failures."""

from __future__ import annotations

import glob
import os

from jmedcorpus.constants import SYNTH_ENGINE_ERROR
from jmedcorpus.synth.cache import RequestCache
from jmedcorpus.synth.engines.base import Completion


def test_completions_come_back_in_a_later_run(tmp_path):
    cache = RequestCache(str(tmp_path))
    cache.put("k1", Completion("p#0", "回答", "stop", 10, 3, attempts=2))
    cache.put("k2", Completion("p#1", None, error=SYNTH_ENGINE_ERROR, detail="timeout"))
    cache.close()
    (path,) = glob.glob(str(tmp_path / ".cache" / "*.jsonl"))
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"key": "k3", "text": "途')  # a kill mid-line
    again = RequestCache(str(tmp_path))
    assert again.torn_lines == 1 and len(again) == 1
    hit = again.get("k1", "p#9")
    assert (hit.key, hit.text, hit.finish_reason, hit.prompt_tokens, hit.completion_tokens, hit.attempts) == (
        "p#9",
        "回答",
        "stop",
        10,
        3,
        2,
    )
    assert again.get("k2", "p#1") is None  # a failure is sent again
    again.put("k4", Completion("p#4", "別", "stop"))
    again.close()
    assert len(os.listdir(tmp_path / ".cache")) == 2  # each run appends to its own file
    assert RequestCache(str(tmp_path)).get("k4", "p#4").text == "別"
