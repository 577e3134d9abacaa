"""The ``transformers`` engine: Hugging Face transformers in this process, on CPU or one GPU.

For small models, for machines without vLLM, and for the tests (a tiny model built locally). It
is the slow engine: no continuous batching, no paged attention. Requests with the same sampling
settings are sorted by prompt length and generated ``batch_size`` at a time with left padding,
so a batch wastes little on padding.

Seeds: with ``temperature > 0`` each batch is sampled after ``torch.manual_seed`` with the seed of
its first request; with ``batch_size=1`` every request has its own seed, so a passage gets the
same sample whatever else is generated. Greedy decoding (``temperature: 0``) needs no seed.
"""

from __future__ import annotations

from collections.abc import Iterator

from jmedcorpus.constants import SYNTH_ENGINE_ERROR
from jmedcorpus.errors import UserError
from jmedcorpus.synth.engines.base import Completion, Engine, PromptFit, Request


def _import_torch_transformers():
    try:
        import torch
        import transformers
    except ImportError:
        raise UserError(
            "engine 'transformers' needs PyTorch and transformers: pip install 'jmedcorpus[transformers]'"
        ) from None
    return torch, transformers


class TransformersEngine(Engine):
    """Generate with ``AutoModelForCausalLM.generate``.

    Args:
        model: a local model directory or a Hugging Face id already in the local cache (nothing
            is downloaded by jmedcorpus; set ``HF_HUB_OFFLINE=1`` to be sure).
        device: ``"auto"`` (default: ``cuda`` when available, else ``cpu``), ``"cpu"``, ``"cuda"``, ...
        dtype: ``"auto"`` (default: the checkpoint's), ``"float32"``, ``"bfloat16"``, ...
        batch_size: requests generated together (default 8).
        max_model_len: context length used to reject over-long prompts (default: the model's
            ``max_position_embeddings``).
        trust_remote_code: run code shipped with the model (default off; turn on only for models
            you trust).
    """

    name = "transformers"

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        max_model_len: int | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        torch, transformers = _import_torch_transformers()
        if batch_size < 1:
            raise UserError(f"engine batch_size must be >= 1, got {batch_size}")
        self.model = str(model)
        self.batch_size = batch_size
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        # Loading a local checkpoint takes seconds; its bars would only interleave with ours.
        transformers.utils.logging.disable_progress_bar()
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                self.model, trust_remote_code=trust_remote_code
            )
            self._model = transformers.AutoModelForCausalLM.from_pretrained(
                self.model,
                dtype=dtype if dtype == "auto" else getattr(torch, dtype),
                trust_remote_code=trust_remote_code,
            ).to(self.device)
        except (OSError, ValueError) as e:
            raise UserError(
                f"cannot load model {self.model!r} ({type(e).__name__}); give a local model directory "
                "or a model already in the Hugging Face cache"
            ) from None
        self._model.eval()
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens follow the prompt's end
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        config_len = getattr(self._model.config, "max_position_embeddings", None)
        self.fit = PromptFit(self.tokenizer, max_model_len or config_len or 2048)
        self._torch = torch

    def describe(self) -> dict:
        return {
            **super().describe(),
            "device": self.device,
            "dtype": str(self._model.dtype).removeprefix("torch."),
            "batch_size": self.batch_size,
            "max_model_len": self.fit.max_model_len,
        }

    def generate(self, requests: list[Request]) -> Iterator[Completion]:
        fitting, rejected = self.fit.split(requests)
        yield from rejected
        # a batch is generated with one set of sampling settings: requests are batched only with
        # requests sampled alike (a synth chunk's model checks mix answers and judge verdicts)
        groups: dict = {}
        for pair in sorted(fitting, key=lambda pair: len(pair[1])):
            groups.setdefault(pair[0].sampling, []).append(pair)
        batches = [
            g[i : i + self.batch_size] for g in groups.values() for i in range(0, len(g), self.batch_size)
        ]
        for batch in batches:
            try:
                yield from self._generate_batch(batch)
            except (RuntimeError, ValueError) as e:  # e.g. out of memory: the batch fails, the run goes on
                for r, ids in batch:
                    yield Completion(
                        r.key, None, prompt_tokens=len(ids), error=SYNTH_ENGINE_ERROR, detail=type(e).__name__
                    )

    def _generate_batch(self, batch) -> Iterator[Completion]:
        torch = self._torch
        sampling = batch[0][0].sampling
        width = max(len(ids) for _, ids in batch)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for _, ids in batch], device=self.device)
        mask = torch.tensor(
            [[0] * (width - len(ids)) + [1] * len(ids) for _, ids in batch], device=self.device
        )
        kwargs = {"max_new_tokens": sampling.max_tokens, "pad_token_id": pad}
        if sampling.min_tokens:
            kwargs["min_new_tokens"] = sampling.min_tokens
        if sampling.temperature > 0:
            torch.manual_seed(batch[0][0].seed)
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.no_grad():
            out = self._model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
        eos = self._eos_ids()
        for (r, ids), row in zip(batch, out[:, width:].tolist()):
            n, stopped = len(row), False
            for j, token in enumerate(row):
                if token in eos:
                    n, stopped = j + 1, True
                    break
            text = self.tokenizer.decode(row[:n], skip_special_tokens=True)
            finish = "stop" if stopped or n < sampling.max_tokens else "length"
            yield Completion(r.key, text, finish, prompt_tokens=len(ids), completion_tokens=n)

    def _eos_ids(self) -> set[int]:
        eos = self._model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        return set(eos if isinstance(eos, list) else [eos])
