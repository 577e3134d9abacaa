"""An OpenAI-compatible HTTP server on loopback, backed by a real model, with fault injection.

Serves ``POST /v1/chat/completions`` and ``GET /v1/models`` in OpenAI's response format from a
:class:`TransformersEngine` (one generation at a time, under a lock), on ``127.0.0.1`` with a
port the kernel picks. Used by the ``openai`` engine tests::

    with LoopbackOpenAIServer(engine, faults={"患者A": "error_once"}) as server:
        OpenAIEngine(server.model_name, base_url=server.base_url)

Faults are deterministic: ``faults`` maps a substring of the last user message to a behaviour
(the first matching entry wins; ``""`` matches every request):

================  ===============================================================================
error_once        HTTP 503 the first time that prompt is seen, then served normally
rate_limit_once   HTTP 429 with ``Retry-After: <retry_after>`` the first time, then served
error_always      HTTP 500 every time
bad_request       HTTP 400 every time (like "prompt too long")
timeout           waits ``hang_s`` seconds (longer than the client's timeout), then answers
bad_json          HTTP 200 with a body that is not JSON
unauthorized      HTTP 401 every time
================  ===============================================================================

The server records what tests assert on: ``attempts`` (requests received per last user
message), ``auth_headers`` (the Authorization header of each request, ``None`` when absent),
``bodies`` (each request's JSON) and ``max_in_flight`` (most requests handled at once).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jmedcorpus.constants import SYNTH_PROMPT_TOO_LONG
from jmedcorpus.errors import UserError
from jmedcorpus.synth.engines.base import Request, SamplingSettings

FAULTS = {
    "error_once",
    "rate_limit_once",
    "error_always",
    "bad_request",
    "timeout",
    "bad_json",
    "unauthorized",
}


class LoopbackOpenAIServer:
    """A context manager: entering starts the server in a background thread and returns it
    (``base_url`` is then set); leaving stops it.

    Args:
        engine: a :class:`TransformersEngine` (shared with tests that call it directly).
        model_name: the name the server serves; another name in a request gets HTTP 404.
        faults: substring of the last user message -> behaviour (see the module docstring).
        api_key: when set, requests without ``Authorization: Bearer <api_key>`` get HTTP 401.
        delay_s: extra seconds before answering each request (outside the model lock), so that
            concurrent requests overlap.
        hang_s: how long a ``timeout`` fault waits.
        retry_after: the ``Retry-After`` header value of a ``rate_limit_once`` fault.
    """

    def __init__(
        self,
        engine,
        *,
        model_name: str = "tiny-chat",
        faults: dict[str, str] | None = None,
        api_key: str | None = None,
        delay_s: float = 0.0,
        hang_s: float = 3.0,
        retry_after: str = "1",
    ) -> None:
        unknown = set((faults or {}).values()) - FAULTS
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self.engine, self.model_name, self.faults = engine, model_name, dict(faults or {})
        self.api_key, self.delay_s, self.hang_s, self.retry_after = api_key, delay_s, hang_s, retry_after
        self.attempts: Counter[str] = Counter()
        self.auth_headers: list[str | None] = []
        self.bodies: list[dict] = []
        self.in_flight = self.max_in_flight = 0
        self.base_url = ""
        self._stats_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()  # wakes handlers waiting in a timeout fault
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def fault_for(self, prompt: str) -> str | None:
        for needle, behaviour in self.faults.items():
            if needle in prompt:
                return behaviour
        return None

    def complete(self, body: dict) -> tuple[int, dict]:
        """``(status, JSON answer)`` for a chat-completions body, from the real model."""
        try:
            sampling = SamplingSettings(
                temperature=float(body.get("temperature", 1.0)),
                top_p=float(body.get("top_p", 1.0)),
                max_tokens=int(body.get("max_tokens") or 16),
                min_tokens=int(body.get("min_tokens") or 0),
            )
            request = Request("loopback", tuple(body["messages"]), sampling, int(body.get("seed") or 0))
        except (KeyError, TypeError, ValueError, UserError):
            return 400, _error("invalid request", 400)
        with self._model_lock:
            c = next(iter(self.engine.generate([request])))
        if c.error == SYNTH_PROMPT_TOO_LONG:
            return 400, _error("prompt too long for the model's context", 400)
        if c.error:
            return 500, _error("generation failed", 500)
        return 200, {
            "id": f"chatcmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": c.text},
                    "finish_reason": c.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": c.prompt_tokens,
                "completion_tokens": c.completion_tokens,
                "total_tokens": c.prompt_tokens + c.completion_tokens,
            },
        }


def _error(message: str, code: int) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _last_user_message(body: dict) -> str:
    for m in reversed(body.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user":
            return str(m.get("content", ""))
    return ""


def _handler_class(server: LoopbackOpenAIServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, payload: bytes, content_type="application/json", headers=()) -> None:
            # A request stops being in flight before its answer is written: once the client has
            # read it, it may send the next one before this handler would get to count down.
            self._done_in_flight()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout) and closed the connection
                pass

        def _send_json(self, status: int, obj: dict, headers=()) -> None:
            self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), headers=headers)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send_json(
                    200, {"object": "list", "data": [{"id": server.model_name, "object": "model"}]}
                )
            else:
                self._send_json(404, _error("not found", 404))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, _error("not found", 404))
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._send_json(400, _error("body is not JSON", 400))
                return
            prompt = _last_user_message(body)
            with server._stats_lock:
                server.attempts[prompt] += 1
                seen = server.attempts[prompt]
                server.auth_headers.append(self.headers.get("Authorization"))
                server.bodies.append(body)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            self._in_flight = True
            try:
                self._answer(body, prompt, seen)
            finally:
                self._done_in_flight()

        def _done_in_flight(self) -> None:
            if getattr(self, "_in_flight", False):
                self._in_flight = False
                with server._stats_lock:
                    server.in_flight -= 1

        def _answer(self, body: dict, prompt: str, seen: int) -> None:
            if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                self._send_json(401, _error("invalid API key", 401))
                return
            if body.get("model") != server.model_name:
                self._send_json(404, _error("model not found", 404))
                return
            fault = server.fault_for(prompt)
            if fault == "error_once" and seen == 1:
                self._send_json(503, _error("overloaded", 503))
            elif fault == "rate_limit_once" and seen == 1:
                self._send_json(
                    429, _error("rate limited", 429), headers=[("Retry-After", server.retry_after)]
                )
            elif fault == "error_always":
                self._send_json(500, _error("internal error", 500))
            elif fault == "bad_request":
                self._send_json(400, _error("bad request", 400))
            elif fault == "unauthorized":
                self._send_json(401, _error("invalid API key", 401))
            elif fault == "bad_json":
                self._send(200, b"<html>upstream proxy says hello</html>", content_type="text/html")
            else:
                if fault == "timeout" and server._closing.wait(server.hang_s):
                    return
                if server.delay_s:
                    time.sleep(server.delay_s)
                status, answer = server.complete(body)
                self._send_json(status, answer)

    return Handler
