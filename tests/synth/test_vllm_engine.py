"""The vllm engine: our own conversion and dispatch code without vLLM, the real engine on a GPU.

vLLM is not installed on the CI machines: the pure functions are tested with objects shaped like
vLLM's ``RequestOutput``, the dispatch loop on a real local Ray with stand-in actors that run our
``run_batch`` (everything but ``vllm.LLM`` itself), and the real engine only where vLLM and a GPU
are present (``gpu`` marker).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import SimpleNamespace

import pytest

from jmedcorpus.constants import SYNTH_ENGINE_ERROR, SYNTH_PROMPT_TOO_LONG
from jmedcorpus.errors import UserError
from jmedcorpus.synth.engines import vllm_engine as ve
from jmedcorpus.synth.engines.base import PromptFit, Request, SamplingSettings, chat_prompt_ids, request_seed

SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}
SECRET = "患者山田太郎"  # stands for prompt text that must never appear in errors


def req(
    key: str, text: str = "心筋梗塞の症状を説明してください。", *, max_tokens: int = 64, schema=None
) -> Request:
    sampling = SamplingSettings(temperature=0.7, top_p=0.9, max_tokens=max_tokens, seed=3)
    return Request(key, ({"role": "user", "content": text},), sampling, request_seed(3, key), schema)


def output(ids, text="回答", finish_reason="stop", n_out=2):
    """Shaped like vllm.RequestOutput."""
    first = SimpleNamespace(text=text, finish_reason=finish_reason, token_ids=list(range(n_out)))
    return SimpleNamespace(prompt_token_ids=list(ids), outputs=[first])


# -- pure functions --------------------------------------------------------------------------------


def test_batches_cover_every_item_once():
    items = list(range(1030))
    chunks = list(ve.batches(items, 512))
    assert [len(c) for c in chunks] == [512, 512, 6]
    assert [x for c in chunks for x in c] == items
    assert list(ve.batches([], 4)) == []


def test_sampling_kwargs_per_request_seed_and_schema():
    r = req("doc#1", schema=SCHEMA)
    kw = ve.sampling_kwargs(r, structured_output=True)
    assert kw == {"temperature": 0.7, "top_p": 0.9, "max_tokens": 64, "seed": r.seed, "json_schema": SCHEMA}
    assert "json_schema" not in ve.sampling_kwargs(r, structured_output=False)
    assert "json_schema" not in ve.sampling_kwargs(req("doc#1"), structured_output=True)
    assert ve.sampling_kwargs(req("doc#2"), True)["seed"] != kw["seed"]


def test_to_completion_stop_and_length_are_recorded():
    c = ve.to_completion("k", output([5, 6, 7], text="答え", n_out=4))
    assert (c.key, c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens) == (
        "k",
        "答え",
        "stop",
        3,
        4,
    )
    assert c.error is None
    cut = ve.to_completion("k", output([5], text='{"question": "', finish_reason="length"))
    assert cut.text == '{"question": "' and cut.finish_reason == "length" and cut.error is None


def test_to_completion_unfinished_request_is_an_engine_error():
    c = ve.to_completion("k", output([5, 6], text=SECRET, finish_reason="abort"))
    assert c.text is None and c.error == SYNTH_ENGINE_ERROR and c.detail == "finish_reason=abort"
    assert c.prompt_tokens == 2


def test_run_batch_sends_token_ids_and_one_params_per_request():
    items = [("a", [1, 2, 3], {"seed": 1}), ("b", [4], {"seed": 2})]
    seen = {}

    def generate(prompts, params):
        seen.update(prompts=prompts, params=params)
        return [output(p["prompt_token_ids"], text=f"t{sp['seed']}") for p, sp in zip(prompts, params)]

    result = ve.run_batch(generate, items, make_params=dict)
    assert seen["prompts"] == [{"prompt_token_ids": [1, 2, 3]}, {"prompt_token_ids": [4]}]
    assert seen["params"] == [{"seed": 1}, {"seed": 2}]
    assert [(c.key, c.text, c.prompt_tokens) for c in result] == [("a", "t1", 3), ("b", "t2", 1)]


def test_run_batch_failure_gives_class_name_only():
    def boom(prompts, params):
        raise ValueError(f"bad prompt: {SECRET}")

    assert ve.run_batch(boom, [("a", [1], {})], make_params=dict) == "ValueError"
    # a missing output would shift every later answer onto the wrong passage
    assert ve.run_batch(lambda p, s: [], [("a", [1], {})], make_params=dict) == "RuntimeError"


def test_error_completions():
    cs = ve.error_completions(["a", "b"], "ValueError")
    assert [(c.key, c.text, c.error, c.detail) for c in cs] == [
        ("a", None, SYNTH_ENGINE_ERROR, "ValueError"),
        ("b", None, SYNTH_ENGINE_ERROR, "ValueError"),
    ]


# -- constructor errors ----------------------------------------------------------------------------


def test_without_vllm_one_line_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # hides an installed vLLM from find_spec
    with pytest.raises(UserError) as e:
        ve.VLLMEngine("some/model")
    assert str(e.value) == "engine 'vllm' needs vLLM: pip install 'jmedcorpus[vllm]' on a machine with a GPU"


@pytest.mark.ray
def test_no_gpu_in_cluster_is_a_user_error(ray_local, monkeypatch):
    import ray

    if ray.cluster_resources().get("GPU", 0):
        pytest.skip("this Ray cluster has a GPU")
    # Pretend vLLM is installed so the GPU check is reached; it comes before any model loading.
    real = importlib.util.find_spec
    monkeypatch.setattr(
        ve.importlib.util, "find_spec", lambda n, *a: object() if n == "vllm" else real(n, *a)
    )
    with pytest.raises(UserError) as e:
        ve.VLLMEngine("some/model")
    msg = str(e.value)
    assert (
        "\n" not in msg
        and "needs a GPU" in msg
        and "--engine openai" in msg
        and "--engine transformers" in msg
    )
    assert ray.is_initialized()  # the caller's Ray is left running


def test_invalid_settings_are_user_errors(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        ve.importlib.util, "find_spec", lambda n, *a: object() if n == "vllm" else real(n, *a)
    )
    for kwargs in ({"batch_size": 0}, {"tensor_parallel_size": 0}, {"replicas": 0}, {"in_flight": 0}):
        with pytest.raises(UserError):
            ve.VLLMEngine("some/model", **kwargs)


# -- dispatch on real Ray with stand-in actors -----------------------------------------------------


def stand_in_actor_class():
    """An actor running our ``run_batch`` around a stand-in for ``LLM.generate``. A batch holding a request with seed 0 raises like
    vLLM would; max_tokens 1 kills the actor; max_tokens 2 raises EngineDeadError."""
    import ray
    import ray.cloudpickle

    # Ray workers cannot import this test module: ship its functions and classes by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

    class EngineDeadError(Exception):
        pass

    def generate(prompts, params):
        if any(p["max_tokens"] == 1 for p in params):
            os._exit(1)
        if any(p["max_tokens"] == 2 for p in params):
            raise EngineDeadError(SECRET)
        if any(p["seed"] == 0 for p in params):
            raise ValueError(SECRET)
        return [output(p["prompt_token_ids"], text=f"seed={sp['seed']}") for p, sp in zip(prompts, params)]

    @ray.remote(max_restarts=0)
    class StandIn:
        def __init__(self):
            self.seen = []

        def generate(self, items):
            self.seen += [(key, ids) for key, ids, _ in items]
            return ve.run_batch(generate, items, make_params=dict)

        def seen_items(self):
            return self.seen

    return StandIn


@pytest.fixture(scope="module")
def tokenizer():
    from tiny_chat_model import build_tokenizer

    return build_tokenizer()


@pytest.mark.ray
def test_run_requests_rejects_long_prompts_and_returns_each_request_once(ray_local, tokenizer):
    import ray

    actors = [stand_in_actor_class().remote() for _ in range(2)]
    short = [req(f"d{i}#0", f"症例{i}：発熱と咳嗽を認めた。") for i in range(11)]
    long = req("long#0", "胸痛を主訴に来院した。" * 200)
    fit = PromptFit(
        tokenizer, max_model_len=max(len(chat_prompt_ids(tokenizer, r.messages)) for r in short) + 64
    )
    requests = [*short[:5], long, *short[5:]]

    completions = list(
        ve.run_requests(actors, fit, requests, batch_size=3, in_flight=2, structured_output=True)
    )

    assert sorted(c.key for c in completions) == sorted(r.key for r in requests)
    by_key = {c.key: c for c in completions}
    assert by_key["long#0"].error == SYNTH_PROMPT_TOO_LONG and by_key["long#0"].attempts == 0
    for r in short:
        assert by_key[r.key].text == f"seed={r.seed}"
        assert by_key[r.key].prompt_tokens == len(chat_prompt_ids(tokenizer, r.messages))
    seen = [item for a in actors for item in ray.get(a.seen_items.remote())]
    assert sorted(k for k, _ in seen) == sorted(r.key for r in short)  # the long one never reached vLLM
    assert {k: ids for k, ids in seen} == {r.key: chat_prompt_ids(tokenizer, r.messages) for r in short}
    for a in actors:
        ray.kill(a)


@pytest.mark.ray
def test_failed_batch_becomes_engine_errors_and_the_run_goes_on(ray_local):
    import ray

    actor = stand_in_actor_class().remote()
    good = [(f"g{i}", [1, 2], {"seed": i + 1, "max_tokens": 8}) for i in range(4)]
    bad = [("b0", [1], {"seed": 0, "max_tokens": 8}), ("b1", [1], {"seed": 5, "max_tokens": 8})]
    completions = list(ve.dispatch([actor], [good[:2], bad, good[2:]], in_flight=2))
    by_key = {c.key: c for c in completions}
    assert sorted(by_key) == ["b0", "b1", "g0", "g1", "g2", "g3"] and len(completions) == 6
    for key in ("b0", "b1"):
        assert by_key[key].error == SYNTH_ENGINE_ERROR and by_key[key].detail == "ValueError"
        assert SECRET not in by_key[key].detail
    assert all(by_key[f"g{i}"].text == f"seed={i + 1}" for i in range(4))
    ray.kill(actor)


@pytest.mark.ray
@pytest.mark.parametrize("max_tokens, match", [(1, "actor 0 died"), (2, "EngineDeadError")])
def test_dead_actor_or_engine_raises(ray_local, max_tokens, match):
    import ray

    actor = stand_in_actor_class().remote()
    with pytest.raises(RuntimeError, match=match) as e:
        list(ve.dispatch([actor], [[("a", [1], {"seed": 1, "max_tokens": max_tokens})]], in_flight=1))
    assert SECRET not in str(e.value)
    ray.kill(actor)


# -- with vLLM -------------------------------------------------------------------------------------


def test_sampling_params_build_real_vllm_objects():
    pytest.importorskip("vllm")
    r = req("doc#1", max_tokens=77, schema=SCHEMA)
    sp = ve.sampling_params(ve.sampling_kwargs(r, structured_output=True))
    assert (sp.temperature, sp.top_p, sp.max_tokens, sp.seed, sp.n) == (0.7, 0.9, 77, r.seed, 1)
    constraint = getattr(sp, "structured_outputs", None) or getattr(sp, "guided_decoding", None)
    assert constraint is not None and constraint.json == SCHEMA
    plain = ve.sampling_params(ve.sampling_kwargs(r, structured_output=False))
    assert (
        getattr(plain, "structured_outputs", None) is None and getattr(plain, "guided_decoding", None) is None
    )


def _gpu_ready() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


@pytest.mark.gpu
@pytest.mark.skipif(not _gpu_ready(), reason="needs vLLM and a GPU")
def test_real_vllm_engine_end_to_end(tmp_path):
    from tiny_chat_model import build_tiny_chat_model
    from transformers import AutoTokenizer

    path = str(build_tiny_chat_model(tmp_path / "model"))
    tokenizer = AutoTokenizer.from_pretrained(path)
    requests = [req(f"d{i}#0", f"症例{i}：発熱を認めた。", max_tokens=16) for i in range(6)]
    requests.append(req("s#0", "設問を作成してください。", max_tokens=16, schema=SCHEMA))
    with ve.VLLMEngine(path, max_model_len=256, gpu_memory_utilization=0.3, batch_size=4) as engine:
        assert engine.describe()["max_model_len"] == 256 and engine.describe()["replicas"] >= 1
        too_long = req("long#0", "胸痛を認めた。" * 400, max_tokens=16)
        completions = {c.key: c for c in engine.generate([*requests, too_long])}
    assert sorted(completions) == sorted(r.key for r in [*requests, too_long])
    assert completions["long#0"].error == SYNTH_PROMPT_TOO_LONG
    for r in requests:
        c = completions[r.key]
        assert c.error is None and isinstance(c.text, str) and c.finish_reason in ("stop", "length")
        assert 0 < c.completion_tokens <= 16
        assert c.prompt_tokens == len(chat_prompt_ids(tokenizer, r.messages))
