"""``jmedcorpus synth`` recipe: YAML → validated settings, with one-line errors like the build's.

A synth recipe names the prompt template, the engine and model, sampling, the passage selection
and the validation thresholds (``recipes/synth_exam.yaml`` is the shipped default)::

    name: synth_exam
    template: exam_mcq_v1
    engine: {name: vllm, model: null, vllm: {tensor_parallel_size: 1}, openai: {concurrency: 16}}
    sampling: {temperature: 0.7, top_p: 0.95, max_tokens: 1024, seed: 0}
    passages: {n: 10000, min_tokens: 64, max_tokens: 384, min_medical_density: 0.1}
    validation: {near_duplicate_threshold: 0.8, grounding_min_overlap: 0.5}
    output: {chunk_size: 500}

Command-line options override the recipe (``--model``, ``--engine``, ``-n``, ``--seed``, ...).
"""

from __future__ import annotations

import os
import typing
from dataclasses import asdict, dataclass, field
from importlib import resources

import yaml

from jmedcorpus.errors import UserError
from jmedcorpus.recipe import RecipeError, _check_keys, _check_type, _settings
from jmedcorpus.synth.engines.base import SamplingSettings
from jmedcorpus.synth.prompts import available_templates

DEFAULT_SYNTH_RECIPE = "synth_exam"
ENGINES = ("vllm", "openai", "transformers")


@dataclass
class EngineSettings:
    """Which engine and model; the section named like the engine holds its constructor arguments
    (see the engine's docstring), so switching ``--engine`` keeps each engine's settings."""

    name: str = "vllm"
    model: str | None = None
    vllm: dict = field(default_factory=dict)
    openai: dict = field(default_factory=dict)
    transformers: dict = field(default_factory=dict)

    @property
    def options(self) -> dict:
        return dict(getattr(self, self.name, {}) or {})


@dataclass
class PassageSettings:
    """How passages are cut and chosen (:func:`jmedcorpus.synth.passages.select_passages`)."""

    n: int | None = None  # passages to generate from; None: every eligible passage
    min_tokens: int = 64
    max_tokens: int = 384
    min_medical_density: float = 0.1
    min_japanese_ratio: float = 0.5
    text_field: str = "text"
    id_field: str = "id"


@dataclass
class ValidationSettings:
    """Thresholds of the checks run by :mod:`jmedcorpus.synth.validation` (defaults documented
    with each check)."""

    near_duplicate_threshold: float = 0.8
    grounding_min_overlap: float = 0.5
    contamination_ngram: int = 10
    contamination_min_fraction: float = 0.2
    contamination_field: str = "text"  # field of the --decontaminate-against JSONL records


@dataclass
class SynthOutputSettings:
    chunk_size: int = 500  # passages per output shard (and per resume step)
    compression: str = "zstd"


@dataclass
class SynthRecipe:
    name: str
    template: str
    engine: EngineSettings = field(default_factory=EngineSettings)
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    passages: PassageSettings = field(default_factory=PassageSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    output: SynthOutputSettings = field(default_factory=SynthOutputSettings)
    source: str = "<memory>"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("source")
        return d

    def check(self) -> SynthRecipe:
        """Validate values (after command-line overrides); raises :class:`RecipeError`."""

        def fail(msg: str):
            raise RecipeError(f"synth recipe {self.source}: {msg}")

        if self.template not in available_templates():
            fail(
                f"template {self.template!r} is unknown; shipped templates: {', '.join(available_templates())}"
            )
        if self.engine.name not in ENGINES:
            fail(f"engine.name {self.engine.name!r} is unknown; choose one of {', '.join(ENGINES)}")
        if not self.engine.model:
            fail("no model: give --model PATH_OR_NAME (or engine.model in the recipe)")
        p, v = self.passages, self.validation
        if p.n is not None and p.n < 1:
            fail(f"passages.n must be >= 1 (or null for all), got {p.n}")
        if not 1 <= p.min_tokens <= p.max_tokens:
            fail(
                f"passages.min_tokens/max_tokens must satisfy 1 <= min <= max, got {p.min_tokens}, {p.max_tokens}"
            )
        for name, value in (
            ("passages.min_medical_density", p.min_medical_density),
            ("passages.min_japanese_ratio", p.min_japanese_ratio),
            ("validation.near_duplicate_threshold", v.near_duplicate_threshold),
            ("validation.grounding_min_overlap", v.grounding_min_overlap),
            ("validation.contamination_min_fraction", v.contamination_min_fraction),
        ):
            if not 0.0 <= value <= 1.0:
                fail(f"{name} must be in [0, 1], got {value}")
        if not 1 <= v.contamination_ngram <= 64:
            fail(f"validation.contamination_ngram must be in 1-64, got {v.contamination_ngram}")
        if self.output.chunk_size < 1:
            fail(f"output.chunk_size must be >= 1, got {self.output.chunk_size}")
        if self.output.compression not in ("zstd", "snappy", "gzip", "none"):
            fail(
                f"output.compression must be one of zstd, snappy, gzip, none, got {self.output.compression!r}"
            )
        return self


def default_synth_recipe_path() -> str:
    return str(resources.files("jmedcorpus") / "recipes" / f"{DEFAULT_SYNTH_RECIPE}.yaml")


def load_synth_recipe(path: str | None = None) -> SynthRecipe:
    """Load a synth recipe (the shipped ``synth_exam`` when ``path`` is None); values are checked
    by :meth:`SynthRecipe.check` once command-line overrides are applied."""
    path = path or default_synth_recipe_path()
    if not os.path.isfile(path):
        raise RecipeError(f"synth recipe {path}: no such file; give a path to a YAML recipe or omit it")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError:
        raise RecipeError(f"synth recipe {path}: not valid YAML; check indentation and quoting") from None
    return synth_recipe_from_dict(data, source=path)


def synth_recipe_from_dict(data, source: str = "<memory>") -> SynthRecipe:
    def fail(msg: str):
        raise RecipeError(f"synth recipe {source}: {msg}")

    if not isinstance(data, dict) or "template" not in data:
        fail("must be a YAML mapping with at least 'template' (e.g. template: exam_mcq_v1)")
    sections = {
        "engine": EngineSettings,
        "sampling": SamplingSettings,
        "passages": PassageSettings,
        "validation": ValidationSettings,
        "output": SynthOutputSettings,
    }
    _check_keys(data, {"name", "template", *sections}, "", fail)
    for key in ("name", "template"):
        if key in data:
            _check_type(data[key], str, key, fail)
    values = {}
    for key, cls in sections.items():
        try:
            values[key] = _settings(cls, data.get(key), key, fail)
        except RecipeError:
            raise
        except (ValueError, UserError) as e:  # SamplingSettings range checks
            fail(f"{key}: {e}")
    for engine in ENGINES:
        if not isinstance(getattr(values["engine"], engine), dict):
            fail(f"engine.{engine}: expected a mapping of the {engine} engine's arguments")
    name = data.get("name", os.path.splitext(os.path.basename(source))[0])
    return SynthRecipe(name=name, template=data["template"], source=source, **values)


def override(obj, **changes):
    """A copy of a settings dataclass with the non-None ``changes`` applied."""
    import dataclasses

    hints = typing.get_type_hints(type(obj))
    kept = {k: v for k, v in changes.items() if v is not None and k in hints}
    return dataclasses.replace(obj, **kept)
