"""A tiny real chat model, built and saved locally (there is no internet at test time).

- Tokenizer: byte-level BPE trained with the ``tokenizers`` library on the Japanese fixture text
  (tests/data/case_reports_ja.jsonl and the hand-written model outputs), with a ChatML chat
  template, saved as a ``PreTrainedTokenizerFast``.
- Model: a 2-layer Llama with random weights (seeded), saved with ``save_pretrained``.
- Optionally the model is trained for a few hundred steps to *memorize* given (messages, answer)
  pairs, so that greedy decoding of those prompts yields a well-formed, grounded item: the
  pipeline's accepted path is then exercised by a real model, not a stub. Prompts it was not
  trained on give whatever the weights produce (usually the memorized answer again or broken
  text), which the pipeline must reject with reasons.

What a test may rely on: only what this module guarantees, never what training or sampling
happens to produce with this week's torch/transformers. Guaranteed: greedy decoding of a
memorized prompt gives its answer exactly (checked here; building fails loudly otherwise), and
the build is bit-reproducible for one set of package versions (fixed seeds, deterministic
algorithms, one thread). Not guaranteed: what any other prompt produces, including how soon it
emits end-of-sequence; a test that needs a completion of a given length asks for it with
``SamplingSettings.min_tokens``.

Used by the synth tests (transformers engine, OpenAI-compatible loopback server, pipeline) and by
``bench/bench_synth.py``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _corpus() -> list[str]:
    texts = []
    for name, field in (("case_reports_ja.jsonl", "text"), ("synth_outputs.jsonl", "raw")):
        with open(DATA / name, encoding="utf-8") as f:
            texts += [json.loads(line)[field] for line in f if line.strip()]
    return texts


def build_tokenizer(extra_texts=(), vocab_size: int = 4000):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([*_corpus(), *extra_texts], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


class MemorizationFailed(AssertionError):
    """Training ended without greedy decoding reproducing every memorized answer."""


@contextlib.contextmanager
def deterministic_torch(seed: int):
    """Seeded, deterministic kernels, one thread: the same weights on every run and machine
    with the same package versions. Restores the previous settings on exit."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)


def build_tiny_chat_model(
    path, *, memorize: list[tuple[list[dict], str]] = (), steps: int = 400, seed: int = 0
) -> Path:
    """Build the tokenizer and model into ``path`` and return it.

    Args:
        memorize: (messages, answer) pairs to train in (loss on the answer tokens only).
        steps: training steps at most; training stops once greedy decoding reproduces every
            answer exactly (checked every 25 steps). If it never does,
            :class:`MemorizationFailed` is raised: a test never runs on a half-trained model.
    """
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    path = Path(path)
    tokenizer = build_tokenizer([a for _, a in memorize])
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    with deterministic_torch(seed):
        model = LlamaForCausalLM(config)
        if memorize:
            _memorize(model, tokenizer, memorize, steps)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _encode(tokenizer, messages, answer):
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a = tokenizer(answer + "<|im_end|>", add_special_tokens=False)["input_ids"]
    return p, a


def _memorize(model, tokenizer, pairs, steps: int) -> None:
    import torch

    encoded = [_encode(tokenizer, m, a) for m, a in pairs]
    # One right-padded batch of every pair: one forward/backward per step.
    width = max(len(p) + len(a) for p, a in encoded)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([p + a + [pad] * (width - len(p) - len(a)) for p, a in encoded])
    mask = torch.tensor([[1] * (len(p) + len(a)) + [0] * (width - len(p) - len(a)) for p, a in encoded])
    labels = torch.tensor([[-100] * len(p) + a + [-100] * (width - len(p) - len(a)) for p, a in encoded])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    model.train()
    for step in range(1, steps + 1):
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if (step % 25 == 0 or step == steps) and _reproduces(model, encoded):
            break
    else:
        raise MemorizationFailed(f"the tiny model did not memorize its {len(pairs)} answers in {steps} steps")
    model.eval()


def _reproduces(model, encoded) -> bool:
    import torch

    model.eval()
    try:
        for p, a in encoded:
            with torch.no_grad():
                out = model.generate(torch.tensor([p]), max_new_tokens=len(a) + 2, do_sample=False)
            if out[0, len(p) :].tolist()[: len(a)] != a:
                return False
        return True
    finally:
        model.train()
