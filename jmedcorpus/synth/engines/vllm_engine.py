"""The ``vllm`` engine: vLLM's offline engine inside Ray actors that hold the model.

Why it is shaped this way:

- **Actors, one per GPU group.** Loading a model takes minutes, so each actor loads it once and
  is fed batch after batch; ``replicas`` actors of ``tensor_parallel_size`` GPUs each cover the
  cluster (tp > 1 uses vLLM's multiprocessing backend inside the actor's GPUs).
- **Large batches, several in flight.** vLLM's continuous batching only fills the GPU when it
  has many requests at once, so each call carries ``batch_size`` requests, and ``in_flight``
  calls are queued per actor so the next batch is already there when one finishes.
- **Token-count precheck.** vLLM aborts a whole ``generate()`` call on one over-long prompt, so
  each prompt is rendered and counted in the driver first (:class:`PromptFit`): the ones that do
  not fit become ``synth_prompt_too_long`` completions and never reach vLLM.
- **Token-id prompts.** What is counted is exactly what is sent: the ids from the model's own
  chat template, so vLLM does not render or tokenize again (no double BOS, no template drift).
- **Errors.** A batch whose call raises becomes ``synth_engine_error`` completions (only the
  exception's class name: vLLM messages can quote prompt text) and the run goes on; an actor or
  engine that died makes the engine unusable, which raises.

vLLM is imported only inside the actors, so this module imports on machines without it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections import deque
from collections.abc import Iterable, Iterator

from jmedcorpus.constants import SYNTH_ENGINE_ERROR
from jmedcorpus.errors import UserError
from jmedcorpus.synth.engines.base import Completion, Engine, PromptFit, Request

# Exceptions after which vLLM refuses every later call: raise instead of failing batch after batch.
FATAL_ERRORS = {"EngineDeadError"}
NO_GPU = (
    "engine 'vllm' needs a GPU and the Ray cluster has {gpus} (tensor_parallel_size {tp}); "
    "use --engine openai (an OpenAI-compatible server) or --engine transformers"
)


def batches(items: list, size: int) -> Iterator[list]:
    """Consecutive slices of at most ``size`` items.

    >>> list(batches([1, 2, 3, 4, 5], 2))
    [[1, 2], [3, 4], [5]]
    """
    for i in range(0, len(items), size):
        yield items[i : i + size]


MIN_SPREAD_BATCH = 128  # below this, a call no longer fills vLLM's running batch (max_num_seqs 256)


def spread_batch_size(n: int, batch_size: int, slots: int) -> int:
    """Batch size for ``n`` requests over ``slots`` (actors × calls in flight): small enough that
    one call's requests reach every actor, never above ``batch_size`` nor below
    :data:`MIN_SPREAD_BATCH`.

    >>> spread_batch_size(500, 512, 4), spread_batch_size(100, 512, 4), spread_batch_size(9000, 512, 4)
    (128, 128, 512)
    >>> spread_batch_size(2000, 512, 4)
    500
    """
    return max(1, min(batch_size, max(MIN_SPREAD_BATCH, -(-n // max(1, slots)))))


def sampling_kwargs(request: Request, structured_output: bool) -> dict:
    """Plain sampling settings of one request (picklable; :func:`sampling_params` builds vLLM's
    object in the actor). ``json_schema`` is set when structured output is on and the request
    has a schema."""
    s = request.sampling
    kwargs = {
        "temperature": s.temperature,
        "top_p": s.top_p,
        "max_tokens": s.max_tokens,
        "seed": request.seed,
    }
    if s.min_tokens:
        kwargs["min_tokens"] = s.min_tokens
    if structured_output and request.schema:
        kwargs["json_schema"] = request.schema
    return kwargs


def sampling_params(kwargs: dict):
    """``vllm.SamplingParams`` from :func:`sampling_kwargs`: ``structured_outputs`` on vLLM >= 0.11,
    ``guided_decoding`` before (removed in 0.12)."""
    from vllm import SamplingParams

    kwargs = dict(kwargs)
    schema = kwargs.pop("json_schema", None)
    if schema is not None:
        try:
            from vllm.sampling_params import StructuredOutputsParams

            kwargs["structured_outputs"] = StructuredOutputsParams(json=schema)
        except ImportError:
            from vllm.sampling_params import GuidedDecodingParams

            kwargs["guided_decoding"] = GuidedDecodingParams(json=schema)
    return SamplingParams(n=1, **kwargs)


def to_completion(key: str, output) -> Completion:
    """A vLLM ``RequestOutput`` (or anything shaped like it) as a :class:`Completion`.
    ``"length"`` is recorded as is (the pipeline rejects it); a request vLLM did not finish
    (``"abort"``, ``None``) is an engine error."""
    first = output.outputs[0]
    ok = first.finish_reason in ("stop", "length")
    return Completion(
        key,
        first.text if ok else None,
        first.finish_reason,
        prompt_tokens=len(output.prompt_token_ids or ()),
        completion_tokens=len(first.token_ids or ()),
        error=None if ok else SYNTH_ENGINE_ERROR,
        detail="" if ok else f"finish_reason={first.finish_reason}",
    )


def error_completions(keys: Iterable[str], detail: str) -> list[Completion]:
    return [Completion(k, None, error=SYNTH_ENGINE_ERROR, detail=detail) for k in keys]


def run_batch(generate, items: list[tuple[str, list[int], dict]], make_params=sampling_params):
    """One actor call: ``items`` are ``(key, prompt ids, sampling kwargs)``. Returns the
    completions, or the exception's class name when ``generate`` raised."""
    try:
        prompts = [{"prompt_token_ids": ids} for _, ids, _ in items]
        outputs = generate(prompts, [make_params(kw) for _, _, kw in items])
        if len(outputs) != len(items):  # never expected; a silent mismatch would mislabel answers
            raise RuntimeError("output count mismatch")
        return [to_completion(key, out) for (key, _, _), out in zip(items, outputs)]
    except Exception as e:  # noqa: BLE001 - reported per batch; the message may quote the prompt
        return type(e).__name__


class _LLMActor:
    """Holds one ``vllm.LLM``; made a Ray actor with ``num_gpus=tensor_parallel_size``."""

    def __init__(self, llm_kwargs: dict) -> None:
        import vllm

        self.version = vllm.__version__
        self.llm = vllm.LLM(**llm_kwargs)

    def info(self) -> dict:
        config = getattr(self.llm, "model_config", None) or self.llm.llm_engine.model_config
        return {"max_model_len": int(config.max_model_len), "vllm_version": self.version}

    def generate(self, items):
        return run_batch(lambda p, sp: self.llm.generate(p, sp, use_tqdm=False), items)


def dispatch(actors: list, work: Iterable[list], in_flight: int) -> Iterator[Completion]:
    """Send each batch of ``work`` to the least-loaded actor (at most ``in_flight`` calls queued
    per actor) and yield completions as calls finish."""
    import ray

    queue, pending, load = deque(work), {}, [0] * len(actors)
    while queue or pending:
        while queue and min(load) < in_flight:
            i = load.index(min(load))
            items = queue.popleft()
            pending[actors[i].generate.remote(items)] = (i, [key for key, _, _ in items])
            load[i] += 1
        [ref], _ = ray.wait(list(pending), num_returns=1)
        i, keys = pending.pop(ref)
        load[i] -= 1
        try:
            result = ray.get(ref)
        except ray.exceptions.RayActorError as e:
            raise RuntimeError(f"vLLM actor {i} died ({type(e).__name__}); see the Ray worker logs") from e
        except ray.exceptions.RayTaskError as e:  # e.g. an argument that failed to deserialize
            result = type(e.cause).__name__ if e.cause is not None else type(e).__name__
        if isinstance(result, str):
            if result in FATAL_ERRORS:
                raise RuntimeError(f"the vLLM engine in actor {i} died ({result}); see the Ray worker logs")
            yield from error_completions(keys, result)
        else:
            yield from result


def run_requests(
    actors, fit: PromptFit, requests, *, batch_size: int, in_flight: int, structured_output: bool
):
    """Reject the prompts that do not fit, then run the rest on ``actors``."""
    fitting, rejected = fit.split(requests)
    yield from rejected
    work = [
        [(r.key, ids, sampling_kwargs(r, structured_output)) for r, ids in b]
        for b in batches(fitting, spread_batch_size(len(fitting), batch_size, len(actors) * in_flight))
    ]
    yield from dispatch(actors, work, in_flight)


class VLLMEngine(Engine):
    """vLLM in Ray actors. The tokenizer is loaded in the driver for the token-count precheck.

    Args:
        model: local path or Hugging Face id, passed as given to vLLM and transformers.
        tensor_parallel_size: GPUs per model replica (default 1).
        replicas: model replicas (default: GPUs in the Ray cluster // tensor_parallel_size).
        max_model_len: context length (default None: the model's own).
        gpu_memory_utilization: share of each GPU's memory vLLM may take (default 0.9).
        dtype: weight dtype (default "auto": the model config's).
        trust_remote_code: run the model repository's code (default False: only when asked).
        structured_output: constrain output to the request's JSON schema when it has one (default True).
        batch_size: requests per actor call (default 512: enough to keep continuous batching full).
        in_flight: calls queued per actor (default 2: the next batch waits on the GPU side).
    """

    name = "vllm"
    concurrent_calls = 2  # see Engine.concurrent_calls

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int = 1,
        replicas: int | None = None,
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.9,
        dtype: str = "auto",
        trust_remote_code: bool = False,
        structured_output: bool = True,
        batch_size: int = 512,
        in_flight: int = 2,
    ) -> None:
        if importlib.util.find_spec("vllm") is None:
            raise UserError(
                "engine 'vllm' needs vLLM: pip install 'jmedcorpus[vllm]' on a machine with a GPU"
            )
        if min(tensor_parallel_size, batch_size, in_flight, 1 if replicas is None else replicas) < 1:
            raise UserError(
                "engine 'vllm': tensor_parallel_size, replicas, batch_size, in_flight must be >= 1"
            )
        self.model, self.tp, self.dtype = model, tensor_parallel_size, dtype
        self.structured_output, self.batch_size, self.in_flight = structured_output, batch_size, in_flight
        self.gpu_memory_utilization = gpu_memory_utilization
        self._actors: list = []
        self._stack = contextlib.ExitStack()
        try:
            self._start(replicas, max_model_len, trust_remote_code)
        except BaseException:
            self.close()
            raise

    def _start(self, replicas, max_model_len, trust_remote_code) -> None:
        import ray

        from jmedcorpus.pipelines.ray_tasks import ray_runtime

        self._stack.enter_context(ray_runtime(os.cpu_count() or 1, None))  # the caller's Ray, or a local one
        gpus = int(ray.cluster_resources().get("GPU", 0))
        if gpus < self.tp:
            raise UserError(NO_GPU.format(gpus=gpus or "none", tp=self.tp))
        self.replicas = replicas or gpus // self.tp
        if self.replicas * self.tp > gpus:
            raise UserError(
                f"engine 'vllm': {self.replicas} replicas x {self.tp} GPUs > {gpus} GPUs in the cluster"
            )
        # The tokenizer first: a wrong model path fails in seconds, not after loading weights.
        tokenizer = _load_tokenizer(self.model, trust_remote_code)
        llm_kwargs = {
            "model": self.model,
            "tensor_parallel_size": self.tp,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "dtype": self.dtype,
            "trust_remote_code": trust_remote_code,
        }
        if max_model_len:
            llm_kwargs["max_model_len"] = max_model_len
        if self.tp > 1:  # the actor's GPUs are visible to it only; vLLM's own workers stay inside
            llm_kwargs["distributed_executor_backend"] = "mp"
        actor_cls = ray.remote(num_gpus=self.tp)(_LLMActor)
        self._actors = [actor_cls.remote(llm_kwargs) for _ in range(self.replicas)]
        infos = ray.get([a.info.remote() for a in self._actors])
        self.max_model_len = min(info["max_model_len"] for info in infos)
        self.vllm_version = infos[0]["vllm_version"]
        self._fit = PromptFit(tokenizer, self.max_model_len)

    def generate(self, requests: list[Request]) -> Iterator[Completion]:
        return run_requests(
            self._actors,
            self._fit,
            requests,
            batch_size=self.batch_size,
            in_flight=self.in_flight,
            structured_output=self.structured_output,
        )

    def describe(self) -> dict:
        return {
            **super().describe(),
            "tensor_parallel_size": self.tp,
            "replicas": self.replicas,
            "max_model_len": self.max_model_len,
            "structured_output": self.structured_output,
            "dtype": self.dtype,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "batch_size": self.batch_size,
            "vllm_version": self.vllm_version,
        }

    def close(self) -> None:
        if self._actors:
            import ray

            for actor in self._actors:
                ray.kill(actor)
            self._actors = []
        self._stack.close()  # shuts Ray down only if this engine started it


def _load_tokenizer(model: str, trust_remote_code: bool):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise UserError(
            f"cannot load the tokenizer of model {model!r} ({type(e).__name__}); check --model"
        ) from None
