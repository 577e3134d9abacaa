"""``jmedcorpus synth`` recipe: YAML → validated settings, with one-line errors like the build's.

A synth recipe names the prompt template, the engine and model, sampling, the passage selection
and the validation thresholds (``recipes/synth_exam.yaml`` is the shipped default)::

    name: synth_exam
    template: exam_mcq_v1
    engine: {name: vllm, model: null, vllm: {tensor_parallel_size: 1}, openai: {concurrency: 16}}
    sampling: {temperature: 0.7, top_p: 0.95, max_tokens: 1024, seed: 0}
    passages: {n: 10000, min_tokens: 64, max_tokens: 384, min_medical_density: 0.1}
    validation: {near_duplicate_threshold: 0.8, grounding_min_overlap: 0.5}
    answer_check: {enabled: false, k: 3, min_agreement: 0.5, temperature: 0.7, seed: 0}
    judge: {enabled: false, rubric: judge_v1, min_score: 3, engine: {}}
    ehr: {master: null, local_names: null, candidates: 20}
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
from jmedcorpus.synth.prompts import available_check_templates, available_templates, load_template

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


class _OwnSampling:
    """A model check's section with its own ``temperature``, ``top_p``, ``max_tokens`` and ``seed``:
    the checks do not sample as generation does (the judge is greedy, the answers are draws)."""

    def sampling(self) -> SamplingSettings:
        return SamplingSettings(self.temperature, self.top_p, self.max_tokens, self.seed)


@dataclass
class AnswerCheckSettings(_OwnSampling):
    """The answer check (:mod:`jmedcorpus.synth.answer_check`): exam templates only, off by
    default; its own sampling, so that the k answers are sampled whatever generation uses."""

    enabled: bool = False
    k: int = 3
    min_agreement: float = 0.5
    with_passage: bool = True
    prompt: str = "answer_check_v1"
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int = 0


@dataclass
class JudgeSettings(_OwnSampling):
    """The judge score (:mod:`jmedcorpus.synth.rubric_judge`): exam and free templates, off by
    default. ``engine`` is another engine for the judge, as the top-level ``engine`` section
    (``{name: openai, model: big, openai: {base_url: …}}``); empty: the generation engine. What
    it leaves out (name, model, an engine's arguments) is the generation engine's."""

    enabled: bool = False
    rubric: str = "judge_v1"
    min_score: int = 3
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int = 0
    engine: dict = field(default_factory=dict)

    def engine_settings(self, generation: EngineSettings) -> EngineSettings | None:
        """The judge's own engine, or None when it is the generation engine."""
        if not self.engine:
            return None
        # what the judge's section does not say is the generation engine's: --judge-model alone
        # is another model on the same server (base_url, key, concurrency)
        inherited = asdict(generation)
        for key, value in self.engine.items():
            inherited[key] = {**inherited[key], **value} if key in ENGINES else value
        settings = EngineSettings(**inherited)
        settings.model = settings.model or generation.model

        def what(e: EngineSettings) -> tuple:  # what an engine is: its kind, model and arguments
            return e.name, e.model, e.options

        return None if what(settings) == what(generation) else settings  # never a second copy of it


@dataclass
class EhrSettings:
    """The EHR name-normalization template (:mod:`jmedcorpus.synth.ehr_master`,
    :mod:`jmedcorpus.synth.ehr_names`): the master CSV, the local names (a file, or found in
    the passages when null), candidates per prompt, and a cap on the names (null: all)."""

    master: str | None = None
    local_names: str | None = None
    candidates: int = 20
    max_names: int | None = None


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
    answer_check: AnswerCheckSettings = field(default_factory=AnswerCheckSettings)
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    ehr: EhrSettings = field(default_factory=EhrSettings)
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
        self._check_model_checks(fail)
        self._check_ehr(fail)
        if self.output.chunk_size < 1:
            fail(f"output.chunk_size must be >= 1, got {self.output.chunk_size}")
        if self.output.compression not in ("zstd", "snappy", "gzip", "none"):
            fail(
                f"output.compression must be one of zstd, snappy, gzip, none, got {self.output.compression!r}"
            )
        return self

    def _check_model_checks(self, fail) -> None:
        kind = load_template(self.template).kind
        a, j = self.answer_check, self.judge
        for name, section in (("answer_check", a), ("judge", j)):
            try:
                section.sampling()
            except UserError as e:
                fail(f"{name}: {e}")
        if a.enabled and kind != "exam":
            fail(f"answer_check applies to exam templates (exam_mcq_v1), not {self.template}; turn it off")
        if not 1 <= a.k <= 16:
            fail(f"answer_check.k must be in 1-16, got {a.k}")
        if not 0.0 < a.min_agreement <= 1.0:
            fail(f"answer_check.min_agreement must be in (0, 1], got {a.min_agreement}")
        if a.prompt not in available_check_templates("answer_check"):
            fail(
                f"answer_check.prompt {a.prompt!r} is unknown; shipped: {', '.join(available_check_templates('answer_check'))}"
            )
        if j.enabled and kind == "ehr":
            fail(
                f"judge applies to exam and free templates, not {self.template} (its answers are checked against the master)"
            )
        if not 1 <= j.min_score <= 5:
            fail(f"judge.min_score must be in 1-5, got {j.min_score}")
        if j.rubric not in available_check_templates("judge"):
            fail(
                f"judge.rubric {j.rubric!r} is unknown; shipped rubrics: {', '.join(available_check_templates('judge'))}"
            )
        if j.engine:
            _check_keys(j.engine, {"name", "model", *ENGINES}, "judge.engine.", fail)
            name = j.engine.get("name", self.engine.name)
            if name not in ENGINES:
                fail(f"judge.engine.name {name!r} is unknown; choose one of {', '.join(ENGINES)}")
            for key, value in j.engine.items():
                if key in ENGINES and not isinstance(value, dict):
                    fail(f"judge.engine.{key}: expected a mapping of the {key} engine's arguments")

    def _check_ehr(self, fail) -> None:
        e, kind = self.ehr, load_template(self.template).kind
        if kind == "ehr" and not e.master:
            fail(
                f"template {self.template} needs a standard-name master: --master CSV (code,standard name rows)"
            )
        if kind != "ehr" and (e.master or e.local_names):
            fail(
                f"--master/--local-names (ehr.master, ehr.local_names) are for the ehr_lab_name_v1 template, not {self.template}"
            )
        if e.candidates < 1:
            fail(f"ehr.candidates must be >= 1, got {e.candidates}")
        if e.max_names is not None and e.max_names < 1:
            fail(f"ehr.max_names must be >= 1 (or null for all), got {e.max_names}")


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
        "answer_check": AnswerCheckSettings,
        "judge": JudgeSettings,
        "ehr": EhrSettings,
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
