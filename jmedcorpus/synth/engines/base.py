"""The one interface every generation engine implements, and what travels through it.

A :class:`Request` is chat messages (from a prompt template) plus the sampling settings; an
engine turns each into a :class:`Completion`. Engines differ only in where the model runs:

============  ===============================================================================
engine        where
============  ===============================================================================
vllm          vLLM's offline engine in Ray actors that hold the model, one per GPU group
openai        any OpenAI-compatible HTTP server (vLLM serve, SGLang, llama.cpp, hosted APIs)
transformers  Hugging Face transformers in this process, CPU or one GPU (small models, tests)
============  ===============================================================================

The prompt string always comes from the model's own chat template (``apply_chat_template`` of
its tokenizer, or the server's). A request that cannot be served is not an exception: it is a
completion with ``error`` set to a rejection reason (``synth_prompt_too_long``,
``synth_engine_error``) and a ``detail`` with no text in it (an HTTP status, "timeout"), so one
bad request never stops a run and every passage is accounted for.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

from jmedcorpus.constants import SYNTH_PROMPT_TOO_LONG
from jmedcorpus.errors import UserError


@dataclass(frozen=True)
class SamplingSettings:
    """Sampling parameters, the same for every engine.

    Attributes:
        temperature: softmax temperature (default 0.7; 0 is greedy decoding).
        top_p: nucleus sampling mass (default 0.95).
        max_tokens: most tokens generated per request (default 1024: the longest valid exam item
            with its explanation is ~700 tokens for Qwen/Llama-3-type tokenizers); a completion
            cut at this limit (``finish_reason == "length"``) is rejected.
        seed: base seed; each request gets its own seed from this and its passage key, so a
            passage gets the same sample whatever else is in the batch (where the engine
            supports per-request seeds: vLLM, OpenAI-compatible servers).
        min_tokens: fewest tokens generated before end-of-sequence may end a completion
            (default 0: no floor). vLLM's ``min_tokens``, transformers' ``min_new_tokens``; sent
            to OpenAI-compatible servers only when set (vLLM and SGLang servers take it; hosted
            APIs may refuse it). Useful against models that stop at once on some prompts.
    """

    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 1024
    seed: int = 0
    min_tokens: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 5.0:
            raise UserError(f"sampling temperature must be in [0, 5], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise UserError(f"sampling top_p must be in (0, 1], got {self.top_p}")
        if not 1 <= self.max_tokens <= 1_000_000:
            raise UserError(f"sampling max_tokens must be >= 1, got {self.max_tokens}")
        if not 0 <= self.min_tokens <= self.max_tokens:
            raise UserError(
                f"sampling min_tokens must be in [0, max_tokens={self.max_tokens}], got {self.min_tokens}"
            )

    def as_dict(self) -> dict:
        """The settings as recorded in rows and request cache keys. ``min_tokens`` appears only
        when set, so caches written before it existed stay valid."""
        d = asdict(self)
        if not self.min_tokens:
            del d["min_tokens"]
        return d


@dataclass(frozen=True)
class Request:
    """One generation: ``messages`` to complete, under ``sampling``, with its own ``seed``.

    ``schema`` is the JSON schema of the expected output, used by engines with guided decoding
    when the run asks for it (``None``: free text). ``key`` identifies the request in the cache
    and in the output (the passage key).
    """

    key: str
    messages: tuple[dict, ...]
    sampling: SamplingSettings
    seed: int
    schema: dict | None = None

    def cache_key(self, model: str) -> str:
        """sha256 of everything that decides the output: model, messages, schema, sampling, seed.

        >>> s = SamplingSettings()
        >>> r = Request("d#0", ({"role": "user", "content": "問"},), s, 1)
        >>> r.cache_key("m") == Request("other", r.messages, s, 1).cache_key("m")
        True
        >>> r.cache_key("m") == Request("d#0", r.messages, s, 2).cache_key("m")
        False
        """
        payload = {
            "model": model,
            "messages": list(self.messages),
            "schema": self.schema,
            "sampling": self.sampling.as_dict(),
            "seed": self.seed,
        }
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass
class Completion:
    """What an engine gives back for one request.

    Attributes:
        key: the request's key.
        text: the generated text (``None`` when ``error`` is set).
        finish_reason: ``"stop"``, ``"length"`` (cut at ``max_tokens``: rejected), or ``None``.
        prompt_tokens, completion_tokens: token counts (0 where the engine cannot tell).
        error: a rejection reason when the request was not served, else ``None``.
        detail: why, without any text from the prompt or output (status code, "timeout", ...).
        attempts: requests sent for it (retries included; 0 when rejected before sending).
    """

    key: str
    text: str | None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    detail: str = ""
    attempts: int = 1
    extra: dict = field(default_factory=dict)


class Engine(abc.ABC):
    """Generates completions for requests. ``model`` is what outputs record as the model."""

    name: str = ""
    model: str = ""
    # generate() calls the driver may run at once from different threads (one per chunk). An
    # engine serving many requests in parallel (vLLM actors, an HTTP pool) says 2, so that the
    # next chunk is already queued while a chunk's last, longest generations finish.
    concurrent_calls: int = 1

    @abc.abstractmethod
    def generate(self, requests: list[Request]) -> Iterator[Completion]:
        """One completion per request, each exactly once, in any order (callers match on
        ``key``). Never raises for one bad request; raises only when the engine itself is
        unusable."""

    def describe(self) -> dict:
        """Engine settings for the manifest (no secrets)."""
        return {"engine": self.name, "model": self.model}

    def close(self) -> None:
        """Release the model / connections."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PromptFit:
    """Rejects a request before it reaches the engine when its prompt plus ``max_tokens`` does not
    fit the model's context (``synth_prompt_too_long``): vLLM aborts a whole ``generate()``
    batch on one over-long prompt, and a model asked to continue past its context produces
    garbage. Counts tokens with the chat template the model will see.

    Args:
        tokenizer: a transformers tokenizer with a chat template.
        max_model_len: the context length in tokens.
    """

    def __init__(self, tokenizer, max_model_len: int) -> None:
        self.tokenizer = tokenizer
        self.max_model_len = int(max_model_len)

    def prompt_ids(self, request: Request) -> list[int]:
        return chat_prompt_ids(self.tokenizer, request.messages)

    def split(self, requests: Iterable[Request]) -> tuple[list[tuple[Request, list[int]]], list[Completion]]:
        """``(fitting, rejected)``: the requests that fit with their prompt token ids, and a
        completion with ``synth_prompt_too_long`` for each one that does not."""
        fitting, rejected = [], []
        for r in requests:
            ids = self.prompt_ids(r)
            if len(ids) + r.sampling.max_tokens > self.max_model_len:
                rejected.append(
                    Completion(
                        r.key,
                        None,
                        prompt_tokens=len(ids),
                        error=SYNTH_PROMPT_TOO_LONG,
                        detail=f"{len(ids)} prompt + {r.sampling.max_tokens} max tokens > {self.max_model_len}",
                        attempts=0,
                    )
                )
            else:
                fitting.append((r, ids))
        return fitting, rejected


def chat_prompt_ids(tokenizer, messages) -> list[int]:
    """Token ids of ``messages`` rendered by the tokenizer's chat template, with the assistant
    turn opened (``add_generation_prompt``). A tokenizer without a chat template is a
    :class:`UserError`: guessing a format would silently degrade every generation."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(
            "the model's tokenizer has no chat template; use an instruction-tuned (chat) model "
            "or add a chat_template to its tokenizer_config.json"
        )
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    # The template already holds the special tokens (BOS); adding them again would double them.
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def request_seed(seed: int, key: str) -> int:
    """Seed of one request: a hash of the run seed and the passage key, in [0, 2**31).

    >>> request_seed(0, "doc#1") == request_seed(0, "doc#1") != request_seed(1, "doc#1")
    True
    """
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF
