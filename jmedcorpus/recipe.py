"""YAML recipe → validated configuration, with one-line errors naming the key and the fix.

A recipe is data: steps by registered short name (:mod:`jmedcorpus.registry`) with their
parameters, plus input and output settings. It is loaded with YAML's safe loader only. Every
parameter is checked against the step constructor's annotated keyword arguments (unknown keys,
wrong types), then the constructor itself checks ranges.
"""

from __future__ import annotations

import difflib
import inspect
import os
import types
import typing
from dataclasses import asdict, dataclass, field
from importlib import resources

import yaml

from jmedcorpus.errors import UserError
from jmedcorpus.registry import registered_steps

RECIPE_VERSION = 1
DEFAULT_RECIPE = "ja_medical"


class RecipeError(UserError):
    """A recipe problem; the message names the file, the key and the fix."""


@dataclass
class InputSettings:
    text_field: str = "text"
    id_field: str = "id"
    source_field: str = "source"
    chunk_mb: float = 16.0  # work unit size: a plain JSONL file is split into ranges of this size
    # "auto" (BOM, UTF-8, then CP932/EUC-JP for text files) or a Python codec name such as "cp932"
    encoding: str = "auto"


@dataclass
class OutputSettings:
    shard_mb: float = 256.0  # target size of one training shard (uncompressed text)
    compression: str = "zstd"
    # Top nouns in OUT/stats come from kept documents whose id hash is divisible by this
    # (POS tagging runs ~0.7 M characters/s on the first 1,000 of each; 1 tags every document).
    stats_term_sample: int = 16


@dataclass
class StepSpec:
    use: str
    params: dict = field(default_factory=dict)


@dataclass
class Recipe:
    name: str
    steps: list[StepSpec]
    input: InputSettings = field(default_factory=InputSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    source: str = "<memory>"

    def to_dict(self) -> dict:
        """The resolved recipe (every default filled in), as saved in the manifest."""
        steps = []
        for spec in self.steps:
            resolved = {"use": spec.use}
            resolved.update(step_defaults(registered_steps()[spec.use]))
            resolved.update(spec.params)
            steps.append(resolved)
        return {
            "recipe_version": RECIPE_VERSION,
            "name": self.name,
            "input": asdict(self.input),
            "output": asdict(self.output),
            "steps": steps,
        }

    def build_steps(self) -> list:
        """Instantiate the steps (in a worker: heavy resources load lazily on first use)."""
        classes = registered_steps()
        return [classes[s.use](**s.params) for s in self.steps]


def default_recipe_path() -> str:
    return str(resources.files("jmedcorpus") / "recipes" / f"{DEFAULT_RECIPE}.yaml")


def load_recipe(path: str | None = None) -> Recipe:
    """Load and validate a recipe file (the shipped ``ja_medical`` recipe when ``path`` is None)."""
    path = path or default_recipe_path()
    if not os.path.isfile(path):
        raise RecipeError(
            f"recipe {path}: no such file; give a path to a YAML recipe or omit it for the default"
        )
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RecipeError(f"recipe {path}: not valid YAML{where}; check indentation and quoting") from None
    return recipe_from_dict(data, source=path)


def recipe_from_dict(data, source: str = "<memory>") -> Recipe:
    """Validate a parsed recipe; raises :class:`RecipeError` with one line on the first problem."""

    def fail(msg: str):
        raise RecipeError(f"recipe {source}: {msg}")

    if not isinstance(data, dict):
        fail("must be a YAML mapping with 'name' and 'steps'")
    _check_keys(data, {"recipe_version", "name", "input", "output", "steps"}, "", fail)
    version = data.get("recipe_version", RECIPE_VERSION)
    if version != RECIPE_VERSION:
        fail(f"recipe_version {version!r} is not supported; this jmedcorpus reads version {RECIPE_VERSION}")
    name = data.get("name", os.path.splitext(os.path.basename(source))[0])
    if not isinstance(name, str):
        fail("name: expected a string")
    inp = _settings(InputSettings, data.get("input"), "input", fail)
    out = _settings(OutputSettings, data.get("output"), "output", fail)
    if inp.chunk_mb <= 0:
        fail(f"input.chunk_mb must be > 0, got {inp.chunk_mb}")
    if inp.encoding != "auto" and not _is_text_encoding(inp.encoding):
        fail(
            f"input.encoding {inp.encoding!r} is not a known text encoding; "
            "use auto or a Python codec name such as utf-8, cp932, euc_jp, utf-16"
        )
    if out.shard_mb <= 0:
        fail(f"output.shard_mb must be > 0, got {out.shard_mb}")
    if out.compression not in ("zstd", "snappy", "gzip", "none"):
        fail(f"output.compression must be one of zstd, snappy, gzip, none, got {out.compression!r}")
    steps_data = data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        fail("steps: expected a non-empty list of {use: STEP_NAME, ...}")
    classes = registered_steps()
    steps = []
    seen_global = None
    for i, item in enumerate(steps_data):
        where = f"steps[{i}]"
        if not isinstance(item, dict) or "use" not in item:
            fail(f"{where}: expected a mapping with 'use: STEP_NAME'")
        use = item["use"]
        if use not in classes:
            fail(
                f"{where}.use: unknown step {use!r}{_suggest(use, classes)}; known steps: {', '.join(sorted(classes))}"
            )
        params = {k: v for k, v in item.items() if k != "use"}
        cls = classes[use]
        _check_params(cls, params, f"{where} ({use})", fail)
        if getattr(cls, "is_global", False):
            if any(spec.use == use for spec in steps):
                fail(f"{where} ({use}): a global step may appear once; remove the repeat")
            seen_global = seen_global or use
        elif seen_global:
            fail(
                f"{where} ({use}): per-document steps must come before global steps such as {seen_global}; move it up"
            )
        for spec in steps:  # ordering rules the steps declare (``must_follow``)
            why = getattr(classes[spec.use], "must_follow", {}).get(use)
            if why:
                fail(f"{where} ({use}): must come before {spec.use} ({why}); move it up")
        try:
            cls(**params)
        except (ValueError, TypeError) as e:
            fail(f"{where} ({use}): {e}; fix the value in the recipe")
        steps.append(StepSpec(use, params))
    return Recipe(name=name, steps=steps, input=inp, output=out, source=source)


# --- helpers ----------------------------------------------------------------------------------
def _is_text_encoding(name: str) -> bool:
    from jmedcorpus.io.encodings import is_text_encoding  # the reader's own test, not a copy

    return is_text_encoding(name)


def _suggest(key: str, valid) -> str:
    close = difflib.get_close_matches(str(key), list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(data: dict, valid: set[str], where: str, fail) -> None:
    for key in data:
        if key not in valid:
            fail(f"{where}{key}: unknown key{_suggest(key, valid)}; valid keys: {', '.join(sorted(valid))}")


def _settings(cls, data, section: str, fail):
    if data is None:
        return cls()
    if not isinstance(data, dict):
        fail(f"{section}: expected a mapping")
    hints = typing.get_type_hints(cls)
    _check_keys(data, set(hints), f"{section}.", fail)
    for key, value in data.items():
        _check_type(value, hints[key], f"{section}.{key}", fail)
    return cls(**data)


def _params(cls) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(cls.__init__)
    return {
        n: p
        for n, p in sig.parameters.items()
        if n not in ("self", "exclusion_writer") and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def step_defaults(cls) -> dict:
    """The documented defaults of a step class's parameters (``jmedcorpus steps`` prints them;
    the resolved recipe in the manifest fills them in)."""
    return {n: p.default for n, p in _params(cls).items() if p.default is not inspect.Parameter.empty}


def _check_params(cls, params: dict, where: str, fail) -> None:
    valid = _params(cls)
    hints = typing.get_type_hints(cls.__init__)
    for key, value in params.items():
        if key not in valid:
            names = ", ".join(sorted(valid)) or "none"
            fail(f"{where}: unknown key {key!r}{_suggest(key, valid)}; this step takes: {names}")
        if key in hints:
            _check_type(value, hints[key], f"{where}.{key}", fail)


def _type_name(tp) -> str:
    return {float: "a number", int: "an integer", bool: "true or false", str: "a string"}.get(tp, str(tp))


def _check_type(value, tp, where: str, fail) -> None:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        tp = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, tuple):
        if not isinstance(value, list):
            fail(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        for j, item in enumerate(value):
            _check_type(item, args[0] if args else typing.Any, f"{where}[{j}]", fail)
        return
    if tp is typing.Any:
        return
    ok = {
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        bool: isinstance(value, bool),
        str: isinstance(value, str),
    }.get(tp, True)
    if not ok:
        fail(f"{where}: expected {_type_name(tp)}, got {type(value).__name__} {value!r}")


def add_decontamination(recipe, files: list[str]) -> None:
    """Insert a ``decontaminate`` step against ``files`` before the first global step (or add
    the files to the recipe's own ``decontaminate`` step); a bad file is a one-line error."""
    import os

    for f in files:
        if not os.path.isfile(f):
            raise UserError(
                f"--decontaminate-against {f}: no such file; give a JSONL, CSV or Parquet benchmark file"
            )
    paths = [os.path.abspath(f) for f in files]  # Ray workers may run in another directory
    spec = next((s for s in recipe.steps if s.use == "decontaminate"), None)
    if spec is None:
        classes = registered_steps()
        at = next(
            (i for i, s in enumerate(recipe.steps) if getattr(classes[s.use], "is_global", False)), None
        )
        spec = StepSpec("decontaminate", {"benchmarks": []})
        recipe.steps.insert(len(recipe.steps) if at is None else at, spec)
    spec.params["benchmarks"] = list(spec.params.get("benchmarks", [])) + paths
    try:
        registered_steps()["decontaminate"](**spec.params)  # loads the files: fails before the build
    except ValueError as e:
        raise UserError(f"--decontaminate-against: {e}") from None
