"""The ``openai`` engine: any OpenAI-compatible chat-completions server over HTTP.

vLLM serve, SGLang, the llama.cpp server or a hosted API: the server applies the model's chat
template; this engine POSTs ``{base_url}/chat/completions`` (standard library only: ``urllib``
and a thread pool, so installs stay light).

Retries: a request is retried up to ``max_retries`` times after its first attempt when the
failure is likely transient: connection errors, timeouts, HTTP 408/409/429/500/502/503/504
(overload, rate limits, a server restarting). The wait is ``backoff_s * 2**n`` seconds with
jitter (so many threads do not retry in lockstep), at most 60 s, or what a ``Retry-After``
header (in seconds) says on a 429/503. Other 4xx answers are deterministic (400: prompt too long
or a bad parameter; 401/403: bad key; 404: wrong URL or model), as is a 200 whose body is not a
chat completion ("bad response"): retrying them only wastes time, so they fail at once. A request
that still fails is a completion with ``synth_engine_error`` and a detail that is a status or a
word ("HTTP 503", "timeout", "connection refused", "connection error", "bad response"), never
text from the server's answer, which may echo the prompt.

Unusable engine: until the server has answered once (any HTTP status but 401/403/404), the first
request to finish decides. If it ended in 401/403 (key rejected), 404 (no such endpoint or model)
or, after its retries, in a failure to connect, ``generate()`` raises :class:`UserError`: every
other request would fail the same way, and one line says more than a million error rows. After
that such failures are per-request errors like any other.

Bounded concurrency: ``concurrency`` threads each keep one request in flight (vLLM and SGLang
batch concurrent requests; hosted APIs rate-limit beyond a few). At most 2 x ``concurrency``
requests are handed to the pool at a time, so a million requests never become a million futures
and JSON bodies in memory, and a consumer that stops early leaves little work behind.

The API key comes from the environment variable named by ``api_key_env`` (default
``OPENAI_API_KEY``), read when the engine is created: never a command-line argument (shell
history, ``ps``), never logged, never in :meth:`OpenAIEngine.describe`. With the variable unset no
Authorization header is sent, as local servers expect.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from itertools import islice

from jmedcorpus.constants import SYNTH_ENGINE_ERROR
from jmedcorpus.errors import UserError
from jmedcorpus.synth.engines.base import Completion, Engine, Request

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
UNUSABLE_STATUS = frozenset({401, 403, 404})
MAX_BACKOFF_S = 60.0


class _Failure(Exception):
    """One failed attempt. ``connect``: no connection could be made (the server is not there)."""

    def __init__(self, detail: str, *, retry: bool, status: int | None = None, connect: bool = False):
        super().__init__(detail)
        self.detail, self.retry, self.status, self.connect = detail, retry, status, connect
        self.retry_after: float | None = None


class OpenAIEngine(Engine):
    """Generate with an OpenAI-compatible server's ``/chat/completions``.

    Args:
        model: the model name the server serves (``GET {base_url}/models`` lists them).
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1`` (required).
        api_key_env: name of the environment variable holding the API key (default
            ``OPENAI_API_KEY``); unset: no Authorization header.
        concurrency: requests in flight (default 16).
        timeout_s: seconds per attempt (default 120): a bound on connecting and on waiting for
            the answer, which a non-streaming server sends only when the completion is done.
        max_retries: retries after the first attempt (default 4).
        backoff_s: first retry wait in seconds, doubled on each retry, with jitter (default 1.0).
        structured_output: send the request's JSON schema as ``response_format`` (default off:
            many servers lack it).
    """

    name = "openai"
    concurrent_calls = 2  # see Engine.concurrent_calls

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 16,
        timeout_s: float = 120.0,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        structured_output: bool = False,
    ) -> None:
        if not model:
            raise UserError("engine 'openai' needs model: the model name the server serves")
        if concurrency < 1 or timeout_s <= 0 or max_retries < 0 or backoff_s < 0:
            raise UserError(
                "engine 'openai' needs concurrency >= 1, timeout_s > 0, max_retries, backoff_s >= 0"
            )
        self.model = str(model)
        self.base_url, userinfo = _split_base_url(base_url)
        self.api_key_env = api_key_env
        self.concurrency, self.timeout_s = int(concurrency), float(timeout_s)
        self.max_retries, self.backoff_s = int(max_retries), float(backoff_s)
        self.structured_output = bool(structured_output)
        self._url = self.base_url + "/chat/completions"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(api_key_env) if api_key_env else None
        self._has_key = bool(key)
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        elif userinfo:
            basic = base64.b64encode(urllib.parse.unquote(userinfo).encode()).decode()
            self._headers["Authorization"] = f"Basic {basic}"
        self._verified = False  # the server has answered once: failures are per request from now on
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="openai-engine")

    def describe(self) -> dict:
        keys = ("base_url", "api_key_env", "concurrency", "timeout_s", "max_retries", "backoff_s")
        return {**super().describe(), **{k: getattr(self, k) for k in (*keys, "structured_output")}}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def generate(self, requests: Iterable[Request]) -> Iterator[Completion]:
        todo, stop, pending = iter(requests), threading.Event(), {}
        try:
            while True:
                for r in islice(todo, 2 * self.concurrency - len(pending)):
                    pending[self._pool.submit(self._complete, r, stop)] = r.key
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    del pending[future]
                    completion, failure = future.result()
                    self._check_usable(failure)
                    yield completion
        finally:  # also when the consumer stops early or the engine is unusable
            stop.set()
            for future in pending:
                future.cancel()

    def _check_usable(self, failure: _Failure | None) -> None:
        if self._verified:
            return
        if failure is None or (failure.status is not None and failure.status not in UNUSABLE_STATUS):
            self._verified = True
        elif failure.status in (401, 403):
            fix = f"the key in {self.api_key_env} was refused" if self._has_key else f"set {self.api_key_env}"
            raise UserError(f"server at {self.base_url} rejected the request (HTTP {failure.status}); {fix}")
        elif failure.status == 404:
            raise UserError(
                f"server at {self.base_url} has no /chat/completions or no model {self.model!r} (HTTP 404); "
                "check base_url (usually ends in /v1) and the model name"
            )
        elif failure.connect:
            raise UserError(f"cannot connect to {self.base_url} ({failure.detail}); is the server running?")
        # a timeout or a dropped connection: undecided, the next request to finish decides

    def _payload(self, r: Request) -> dict:
        s = r.sampling
        body = {
            "model": self.model,
            "messages": list(r.messages),
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "seed": r.seed,
            "n": 1,
        }
        if s.min_tokens:  # not an OpenAI parameter: vLLM and SGLang servers accept it
            body["min_tokens"] = s.min_tokens
        if self.structured_output and r.schema is not None:
            schema = {"name": "item", "schema": r.schema, "strict": True}
            body["response_format"] = {"type": "json_schema", "json_schema": schema}
        return body

    def _complete(self, r: Request, stop: threading.Event) -> tuple[Completion, _Failure | None]:
        """One request to its completion, retries included (runs in a pool thread)."""
        body = json.dumps(self._payload(r), ensure_ascii=False).encode("utf-8")
        attempts = 0
        while True:
            attempts += 1
            try:
                return _parse(r.key, self._post(body), attempts), None
            except _Failure as f:
                failure = f
            if not failure.retry or attempts > self.max_retries or stop.is_set():
                break
            delay = failure.retry_after
            if delay is None:
                delay = self.backoff_s * 2 ** (attempts - 1) * random.uniform(0.5, 1.0)
            delay = min(delay, MAX_BACKOFF_S)
            log.debug("request %s: %s, retry %d in %.2f s", r.key, failure.detail, attempts, delay)
            if stop.wait(delay):
                break
        log.debug("request %s failed: %s after %d attempts", r.key, failure.detail, attempts)
        return Completion(
            r.key, None, error=SYNTH_ENGINE_ERROR, detail=failure.detail, attempts=attempts
        ), failure

    def _post(self, body: bytes) -> bytes:
        req = urllib.request.Request(self._url, data=body, headers=self._headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return resp.read()
        except urllib.error.HTTPError as e:  # never read its body: it may echo the prompt
            f = _Failure(f"HTTP {e.code}", retry=e.code in RETRY_STATUS, status=e.code)
            if e.code in (429, 503):
                f.retry_after = _retry_after(e.headers)
            e.close()
            raise f from None
        except urllib.error.URLError as e:  # urllib wraps errors of connecting and sending
            detail = "timeout" if isinstance(e.reason, TimeoutError) else "connection error"
            detail = "connection refused" if isinstance(e.reason, ConnectionRefusedError) else detail
            raise _Failure(detail, retry=True, connect=True) from None
        except TimeoutError:  # waiting for the answer
            raise _Failure("timeout", retry=True) from None
        except (OSError, http.client.HTTPException):  # connected, then dropped
            raise _Failure("connection error", retry=True) from None


def _parse(key: str, raw: bytes, attempts: int) -> Completion:
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
        text = choice["message"]["content"]
        if not isinstance(text, str):
            raise TypeError
        usage = data.get("usage") or {}
        tokens = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        return Completion(key, text, choice.get("finish_reason"), *tokens, attempts=attempts)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise _Failure("bad response", retry=False, status=200) from None


def _retry_after(headers) -> float | None:
    """``Retry-After`` in seconds; ``None`` when absent or an HTTP date (then: the backoff)."""
    try:
        return max(0.0, float(headers.get("Retry-After")))
    except (AttributeError, TypeError, ValueError):
        return None


def _split_base_url(base_url: str | None) -> tuple[str, str]:
    """``(url, userinfo)``: the URL without userinfo, query or trailing slash. A malformed one is a
    UserError whose message does not repeat it (it may hold a password)."""
    parts = urllib.parse.urlsplit(str(base_url or "").strip())
    try:
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        ok = False
    if not ok:
        raise UserError(
            "engine 'openai' needs base_url: the server's API root as http(s)://host:port/v1, "
            "e.g. http://127.0.0.1:8000/v1"
        )
    userinfo, _, hostport = parts.netloc.rpartition("@")
    url = urllib.parse.urlunsplit((parts.scheme, hostport, parts.path.rstrip("/"), "", ""))
    return url, userinfo
