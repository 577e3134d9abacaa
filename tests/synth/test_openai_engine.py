"""The ``openai`` engine against a real OpenAI-compatible server on loopback (a tiny real model)."""

from __future__ import annotations

import json
import socket
import time

import pytest
from loopback_openai_server import LoopbackOpenAIServer
from tiny_chat_model import build_tiny_chat_model

from jmedcorpus.constants import SYNTH_ENGINE_ERROR
from jmedcorpus.errors import UserError
from jmedcorpus.synth.engines.base import Request, SamplingSettings
from jmedcorpus.synth.engines.openai_engine import OpenAIEngine
from jmedcorpus.synth.engines.transformers_engine import TransformersEngine

# min_tokens: random weights may end a completion at once; the comparisons below need text.
GREEDY = SamplingSettings(temperature=0.0, top_p=1.0, max_tokens=24, seed=0, min_tokens=4)
PROMPTS = ["患者Aは発熱と咳嗽を主訴に来院した。", "血圧は160/95 mmHgであった。", "胸部X線で浸潤影を認めた。"]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """A proxy configured in the environment must not capture loopback requests."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory):
    path = build_tiny_chat_model(tmp_path_factory.mktemp("tiny_chat"))  # random weights: any text will do
    engine = TransformersEngine(str(path), device="cpu", batch_size=1)
    yield engine
    engine.close()


def requests_for(prompts, sampling=GREEDY, schema=None) -> list[Request]:
    return [
        Request(f"doc{i}#0", ({"role": "system", "content": "医師として答えよ。"}, {"role": "user", "content": p}),
                sampling, 1000 + i, schema)
        for i, p in enumerate(prompts)
    ]  # fmt: skip


def client(server, **kwargs) -> OpenAIEngine:
    settings = {
        "base_url": server.base_url,
        "concurrency": 4,
        "timeout_s": 5.0,
        "max_retries": 3,
        "backoff_s": 0.01,
    }
    return OpenAIEngine(server.model_name, **{**settings, **kwargs})


def run(engine, requests) -> dict:
    with engine:
        out = list(engine.generate(requests))
    assert sorted(c.key for c in out) == sorted(r.key for r in requests)  # each exactly once
    return {c.key: c for c in out}


def test_generation_matches_transformers_engine(tiny_engine):
    requests = requests_for(PROMPTS)
    direct = {c.key: c for c in tiny_engine.generate(requests)}
    with LoopbackOpenAIServer(tiny_engine) as server:
        served = run(client(server), requests)
        assert sorted(server.attempts.values()) == [1, 1, 1]
        body = server.bodies[0]
    for r in requests:
        got, want = served[r.key], direct[r.key]
        assert got.error is None and got.attempts == 1
        assert got.text == want.text and got.text
        assert (got.finish_reason, got.prompt_tokens, got.completion_tokens) == (
            want.finish_reason,
            want.prompt_tokens,
            want.completion_tokens,
        )
    assert body["model"] == "tiny-chat" and body["n"] == 1 and body["max_tokens"] == 24
    assert body["temperature"] == 0.0 and body["top_p"] == 1.0
    assert body["seed"] in {r.seed for r in requests} and body["min_tokens"] == 4
    assert "response_format" not in body


def test_error_once_is_retried(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine, faults={"発熱": "error_once"}) as server:
        out = run(client(server), requests_for(PROMPTS))
        assert server.attempts[PROMPTS[0]] == 2 and server.attempts[PROMPTS[1]] == 1
    assert out["doc0#0"].error is None and out["doc0#0"].text and out["doc0#0"].attempts == 2
    assert all(c.error is None for c in out.values())


def test_error_always_fails_after_all_retries(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine, faults={"発熱": "error_always"}) as server:
        out = run(client(server, max_retries=2), requests_for(PROMPTS))
        assert server.attempts[PROMPTS[0]] == 3
    bad = out["doc0#0"]
    assert (bad.text, bad.error, bad.detail, bad.attempts) == (None, SYNTH_ENGINE_ERROR, "HTTP 500", 3)
    assert out["doc1#0"].error is None and out["doc2#0"].error is None


def test_timeout_fails_that_request_and_the_run_goes_on(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine, faults={"血圧": "timeout"}, hang_s=3.0) as server:
        start = time.monotonic()
        out = run(client(server, timeout_s=0.5, max_retries=1), requests_for(PROMPTS))
        elapsed = time.monotonic() - start
        assert server.attempts[PROMPTS[1]] == 2
    bad = out["doc1#0"]
    assert (bad.error, bad.detail, bad.attempts) == (SYNTH_ENGINE_ERROR, "timeout", 2)
    assert out["doc0#0"].error is None and out["doc2#0"].error is None
    assert elapsed < 2.5  # two attempts of 0.5 s, not the server's 3 s hang


def test_bad_json_is_a_bad_response_not_retried(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine, faults={"浸潤影": "bad_json"}) as server:
        out = run(client(server), requests_for(PROMPTS))
        assert server.attempts[PROMPTS[2]] == 1
    bad = out["doc2#0"]
    assert (bad.text, bad.error, bad.detail, bad.attempts) == (None, SYNTH_ENGINE_ERROR, "bad response", 1)
    assert out["doc0#0"].error is None


def test_other_4xx_fail_at_once(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine, faults={"血圧": "bad_request"}) as server:
        out = run(client(server), requests_for(PROMPTS))
        assert server.attempts[PROMPTS[1]] == 1
    assert (out["doc1#0"].error, out["doc1#0"].detail, out["doc1#0"].attempts) == (
        SYNTH_ENGINE_ERROR,
        "HTTP 400",
        1,
    )


def test_retry_after_is_honoured(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine, faults={"発熱": "rate_limit_once"}, retry_after="1") as server:
        start = time.monotonic()
        out = run(client(server), requests_for(PROMPTS[:1]))
        elapsed = time.monotonic() - start
    assert out["doc0#0"].error is None and out["doc0#0"].attempts == 2
    assert elapsed >= 0.9  # the server's Retry-After, not backoff_s (0.01 s)


def test_rejected_key_makes_the_engine_unusable(tiny_engine, monkeypatch):
    monkeypatch.setenv("JMED_TEST_KEY", "sk-wrong-0000")
    with LoopbackOpenAIServer(tiny_engine, api_key="sk-right-1111") as server:
        with pytest.raises(UserError, match=r"HTTP 401.*JMED_TEST_KEY") as err:
            run(client(server, api_key_env="JMED_TEST_KEY"), requests_for(PROMPTS))
        assert all(n == 1 for n in server.attempts.values())  # 401 is not retried
    assert "sk-wrong" not in str(err.value) and "sk-right" not in str(err.value)
    monkeypatch.delenv("JMED_TEST_KEY")
    with (
        LoopbackOpenAIServer(tiny_engine, faults={"": "unauthorized"}) as server,
        pytest.raises(UserError, match=r"HTTP 401.*set JMED_TEST_KEY"),
    ):
        run(client(server, api_key_env="JMED_TEST_KEY"), requests_for(PROMPTS))


def test_401_after_the_server_has_answered_is_one_failed_request(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine, faults={"血圧": "unauthorized"}) as server:
        out = run(client(server, concurrency=1), requests_for(PROMPTS))  # one at a time, in order
    assert (out["doc1#0"].error, out["doc1#0"].detail, out["doc1#0"].attempts) == (
        SYNTH_ENGINE_ERROR,
        "HTTP 401",
        1,
    )
    assert out["doc0#0"].error is None and out["doc2#0"].error is None


def test_unknown_model_makes_the_engine_unusable(tiny_engine):
    with (
        LoopbackOpenAIServer(tiny_engine) as server,
        pytest.raises(UserError, match=r"'no-such-model' \(HTTP 404\)"),
    ):
        run(OpenAIEngine("no-such-model", base_url=server.base_url, backoff_s=0.01), requests_for(PROMPTS))


def test_connection_refused_makes_the_engine_unusable():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = OpenAIEngine("m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=2, backoff_s=0.01)
    with pytest.raises(
        UserError, match=r"cannot connect to http://127\.0\.0\.1:\d+/v1 \(connection refused\)"
    ):
        run(engine, requests_for(PROMPTS))


def test_api_key_from_env_is_sent_and_never_described(tiny_engine, monkeypatch):
    monkeypatch.setenv("JMED_TEST_KEY", "sk-secret-4242")
    with LoopbackOpenAIServer(tiny_engine, api_key="sk-secret-4242") as server:
        engine = client(server, api_key_env="JMED_TEST_KEY")
        described = json.dumps(engine.describe())
        out = run(engine, requests_for(PROMPTS))
        assert server.auth_headers == ["Bearer sk-secret-4242"] * 3
    assert all(c.error is None for c in out.values())
    assert "sk-secret" not in described and "sk-secret" not in repr(engine)
    assert json.loads(described) == {
        "engine": "openai",
        "model": "tiny-chat",
        "base_url": server.base_url,
        "api_key_env": "JMED_TEST_KEY",
        "concurrency": 4,
        "timeout_s": 5.0,
        "max_retries": 3,
        "backoff_s": 0.01,
        "structured_output": False,
    }


def test_no_key_no_authorization_header(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine) as server:
        run(client(server), requests_for(PROMPTS[:1]))
        assert server.auth_headers == [None]


def test_concurrency_is_bounded_and_requests_are_submitted_lazily(tiny_engine):
    sampling = SamplingSettings(temperature=0.0, top_p=1.0, max_tokens=4)
    requests = requests_for([f"症例{i}の要約" for i in range(16)], sampling)
    consumed = 0

    def feed():
        nonlocal consumed
        for r in requests:
            consumed += 1
            yield r

    with LoopbackOpenAIServer(tiny_engine, delay_s=0.05) as server:
        with client(server, concurrency=2) as engine:
            stream = engine.generate(feed())
            first = next(stream)
            # 2 x concurrency handed to the pool (+1 refill after the first finished), not all 16
            assert consumed <= 5
            out = [first, *stream]
        # never more than `concurrency` (on a loaded machine two may not overlap: not asserted)
        assert 1 <= server.max_in_flight <= 2
    assert sorted(c.key for c in out) == sorted(r.key for r in requests)
    assert all(c.error is None for c in out)


def test_stopping_early_does_not_hang(tiny_engine):
    with LoopbackOpenAIServer(tiny_engine) as server, client(server, concurrency=2) as engine:
        stream = engine.generate(requests_for(PROMPTS * 4))
        assert next(stream).error is None
        stream.close()


def test_structured_output_sends_the_schema(tiny_engine):
    schema = {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}
    with LoopbackOpenAIServer(tiny_engine) as server:
        run(client(server, structured_output=True), requests_for(PROMPTS[:1], schema=schema))
        run(client(server, structured_output=True), requests_for(PROMPTS[1:2]))  # no schema: none sent
        with_schema, without = server.bodies
    assert with_schema["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "item", "schema": schema, "strict": True},
    }
    assert "response_format" not in without


@pytest.mark.parametrize(
    "url", [None, "", "127.0.0.1:8000/v1", "ftp://host/v1", "http://", "http://h:port/v1"]
)
def test_malformed_base_url_is_a_user_error(url):
    with pytest.raises(UserError, match="base_url"):
        OpenAIEngine("m", base_url=url)


def test_describe_strips_userinfo():
    engine = OpenAIEngine("m", base_url="http://user:pa55@127.0.0.1:9/v1/?x=1")
    assert engine.describe()["base_url"] == "http://127.0.0.1:9/v1"
    assert "pa55" not in json.dumps(engine.describe())
    engine.close()
