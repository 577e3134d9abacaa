"""LLM engines behind one interface (:mod:`jmedcorpus.synth.engines.base`).

:func:`make_engine` builds one from a recipe's ``engine`` section; engine modules are imported
only when chosen, so ``jmedcorpus build`` never needs PyTorch, transformers or vLLM.
"""

from __future__ import annotations

import importlib
import inspect

from jmedcorpus.errors import UserError

ENGINE_CLASSES = {
    "vllm": ("jmedcorpus.synth.engines.vllm_engine", "VLLMEngine"),
    "openai": ("jmedcorpus.synth.engines.openai_engine", "OpenAIEngine"),
    "transformers": ("jmedcorpus.synth.engines.transformers_engine", "TransformersEngine"),
}


def engine_class(name: str):
    if name not in ENGINE_CLASSES:
        raise UserError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_CLASSES)}")
    module, cls = ENGINE_CLASSES[name]
    return getattr(importlib.import_module(module), cls)


def make_engine(name: str, model: str, options: dict):
    """The engine ``name`` for ``model`` with constructor ``options``; an unknown option is a
    one-line :class:`UserError` listing the valid ones."""
    cls = engine_class(name)
    params = inspect.signature(cls.__init__).parameters
    valid = sorted(p for p in params if p not in ("self", "model"))
    for key in options:
        if key not in valid:
            raise UserError(f"engine {name}: unknown option {key!r}; valid options: {', '.join(valid)}")
    return cls(model, **options)
