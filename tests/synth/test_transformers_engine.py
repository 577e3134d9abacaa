"""The transformers engine on a tiny real model: batching must not change greedy outputs, an
over-long prompt is rejected before generation, a cut output says ``length``."""

from __future__ import annotations

import pytest
from tiny_chat_model import build_tiny_chat_model

from jmedcorpus.constants import SYNTH_PROMPT_TOO_LONG
from jmedcorpus.errors import UserError
from jmedcorpus.synth.engines import make_engine
from jmedcorpus.synth.engines.base import Request, SamplingSettings, chat_prompt_ids
from jmedcorpus.synth.engines.transformers_engine import TransformersEngine

PASSAGES = [
    "症例は70歳代男性。",
    "胆管炎の再増悪を認めたためUDCA 600 mgを追加した。その後、胆道系酵素は改善した。",
    "既往歴に高血圧症がある。",
    "腹部CTで肝内胆管の拡張を認めた。",
]
GREEDY = SamplingSettings(temperature=0.0, max_tokens=16)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny") / "m")


def requests(sampling=GREEDY):
    return [Request(f"p#{i}", ({"role": "user", "content": t},), sampling, i) for i, t in enumerate(PASSAGES)]


def by_key(completions):
    return {c.key: c for c in completions}


def test_left_padded_batches_give_the_unbatched_outputs(model_dir):
    one = by_key(TransformersEngine(str(model_dir), batch_size=1).generate(requests()))
    four = by_key(TransformersEngine(str(model_dir), batch_size=4).generate(requests()))
    assert set(one) == set(four) == {f"p#{i}" for i in range(4)}
    for key in one:
        assert (one[key].text, one[key].completion_tokens) == (four[key].text, four[key].completion_tokens)
        assert one[key].prompt_tokens == four[key].prompt_tokens > 0


def test_output_cut_at_max_tokens_says_length(model_dir):
    engine = TransformersEngine(str(model_dir))
    for c in engine.generate(requests(SamplingSettings(temperature=0.0, max_tokens=2))):
        assert c.completion_tokens <= 2
        assert c.finish_reason == ("length" if c.completion_tokens == 2 else "stop")


def test_sampling_is_reproducible_per_seed(model_dir):
    engine = TransformersEngine(str(model_dir), batch_size=1)
    hot = SamplingSettings(temperature=1.0, top_p=1.0, max_tokens=12)
    a = by_key(engine.generate(requests(hot)))
    b = by_key(engine.generate(requests(hot)))
    assert {k: c.text for k, c in a.items()} == {k: c.text for k, c in b.items()}


def test_an_over_long_prompt_is_rejected_before_generation(model_dir):
    engine = TransformersEngine(str(model_dir), max_model_len=64)
    long = Request("long", ({"role": "user", "content": "胆管炎" * 40},), GREEDY, 0)
    short = Request("short", ({"role": "user", "content": "症例"},), GREEDY, 0)
    out = by_key(engine.generate([long, short]))
    assert out["long"].error == SYNTH_PROMPT_TOO_LONG and out["long"].attempts == 0
    assert out["long"].text is None and "> 64" in out["long"].detail and "胆管炎" not in out["long"].detail
    assert out["short"].error is None and out["short"].text is not None


def test_chat_template_comes_from_the_tokenizer(model_dir):
    engine = TransformersEngine(str(model_dir))
    ids = chat_prompt_ids(engine.tokenizer, [{"role": "user", "content": "症例"}])
    assert engine.tokenizer.decode(ids).endswith("<|im_start|>assistant\n")
    engine.tokenizer.chat_template = None
    with pytest.raises(UserError, match="no chat template"):
        chat_prompt_ids(engine.tokenizer, [{"role": "user", "content": "症例"}])


def test_engine_errors_are_one_line(tmp_path, model_dir):
    with pytest.raises(UserError, match="cannot load model"):
        TransformersEngine(str(tmp_path / "missing"))
    with pytest.raises(UserError, match="unknown option 'batchsize'; valid options: batch_size"):
        make_engine("transformers", str(model_dir), {"batchsize": 2})
    with pytest.raises(UserError, match="unknown engine 'tgi'"):
        make_engine("tgi", "m", {})


def test_requests_sampled_differently_are_never_batched_together(model_dir):
    """A synth chunk's model checks send answer requests (sampled, 256 tokens) with judge
    requests (greedy) in one call: each must get its own settings, as it would alone."""
    cut = SamplingSettings(temperature=0.0, max_tokens=3)
    mixed = requests() + [Request(f"q#{i}", r.messages, cut, r.seed) for i, r in enumerate(requests())]
    engine = TransformersEngine(str(model_dir), batch_size=8)
    out = by_key(engine.generate(mixed))
    alone = by_key(engine.generate(requests()))
    for i in range(len(PASSAGES)):
        assert out[f"q#{i}"].completion_tokens <= 3  # the short setting, not the first request's 16
        assert (out[f"p#{i}"].text, out[f"p#{i}"].completion_tokens) == (
            alone[f"p#{i}"].text,
            alone[f"p#{i}"].completion_tokens,
        )
