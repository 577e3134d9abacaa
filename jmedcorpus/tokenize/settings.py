"""Options of ``jmedcorpus tokenize``, its YAML ``tokenize:`` section, groups and mixing weights.

A recipe file holds one ``tokenize:`` mapping; options given on the command line win, and
``--mix`` entries are added to (and override) the file's ``mix``::

    tokenize:
      tokenizer: /models/llm-jp-3-1.8b     # a local directory AutoTokenizer loads
      group_by: '^[^/]+'                   # the group of a document, from its `source`
      shard_tokens: 1e9
      mix: {medtxt-cr: 2, igakuqa: 1, '*': 1}

**Groups.** Each document's ``source`` column (the record's ``source`` field, else the input
file's path relative to the input root) is searched with the ``group_by`` regular expression:
the group is its first capture group if it has one, else the whole match, and ``other`` when it
does not match. The default ``^[^/]+`` takes the first path component, so ``medtxt-cr`` stays
``medtxt-cr`` and ``pmc/oa_comm/PMC123.nxml`` becomes ``pmc``. Characters other than letters,
digits, ``_``, ``.`` and ``-`` become ``_`` (a group is a directory name, and Megatron splits
its data-path list on whitespace).

**Weights.** ``mix`` maps a group (or ``*``, the default for groups not named; 1 unless given)
to a weight >= 0: how often each of its tokens is sampled relative to a weight-1 group. A group
of weight 0 is tokenized but left out of ``data_paths.txt``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

import yaml

from jmedcorpus.errors import UserError
from jmedcorpus.recipe import _suggest

DEFAULT_GROUP_BY = r"^[^/]+"
DEFAULT_SHARD_TOKENS = 1_000_000_000  # 2 GB per .bin in uint16, 4 GB in int32
UNMATCHED_GROUP = "other"
MAX_GROUPS = 256
RECIPE_KEYS = ("tokenizer", "eos_id", "group_by", "shard_tokens", "mix", "data_root")
_UNSAFE = re.compile(r"[^\w.\-]")


@dataclass
class TokenizeOptions:
    corpus: str  # the output of `jmedcorpus build`
    output: str
    tokenizer: str
    eos_id: int | None = None  # default: the tokenizer's eos_token_id
    shard_tokens: int = DEFAULT_SHARD_TOKENS
    group_by: str = DEFAULT_GROUP_BY
    mix: dict[str, float] = field(default_factory=dict)
    data_root: str | None = None  # the prefix root written into data_paths.txt (default: TOK)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    ray_address: str | None = None
    engine: str = "auto"  # auto | ray | processes (jmedcorpus.pipelines.ray_tasks.choose_engine)
    progress: bool = True
    overwrite: bool = False
    unit_mb: float = 32.0  # text per tokenizing task; results do not depend on it
    fault: dict | None = None  # test hook: {"unit": index} makes that unit's task raise


def parse_count(text, what: str = "--shard-tokens") -> int:
    """A positive token count: ``1000000``, ``1e9``, ``1_000_000``, ``500M``, ``2G``, ``300K``.

    >>> parse_count("1e9"), parse_count("500M"), parse_count(2_000)
    (1000000000, 500000000, 2000)
    """
    s = str(text).strip().replace("_", "")
    scale = {"K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9}.get(s[-1:].upper(), 1)
    try:
        value = float(s[:-1] if scale > 1 else s) * scale
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1 or value != int(value):
        raise UserError(f"{what} {text}: expected a positive whole number of tokens, e.g. 1e9 or 500M")
    return int(value)


def parse_mix(items: list[str]) -> dict[str, float]:
    """``["medtxt-cr=2", "*=0.5"]`` → ``{"medtxt-cr": 2.0, "*": 0.5}``; a bad entry is a UserError."""
    mix = {}
    for item in items:
        group, eq, weight = str(item).rpartition("=")
        if not eq or not group:
            raise UserError(f"--mix {item}: expected GROUP=WEIGHT, e.g. --mix medtxt-cr=2 igakuqa=1 '*=1'")
        mix[group] = check_weight(weight, f"--mix {item}")
    return mix


def check_weight(value, where: str) -> float:
    try:
        w = float(value)
    except (TypeError, ValueError):
        w = math.nan
    if isinstance(value, bool) or not math.isfinite(w) or w < 0:
        raise UserError(f"{where}: the weight must be a number >= 0, got {value!r}")
    return w


def load_recipe_section(path: str) -> dict:
    """The ``tokenize:`` section of a YAML file, checked; one-line UserError otherwise."""
    if not os.path.isfile(path):
        raise UserError(f"--recipe {path}: no such file; give a YAML file with a tokenize: section")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"--recipe {path}: not valid YAML ({type(e).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tokenize"), dict):
        raise UserError(f"--recipe {path}: expected a mapping with a tokenize: section")
    section = data["tokenize"]
    for key in section:
        if key not in RECIPE_KEYS:
            raise UserError(
                f"--recipe {path}: tokenize.{key}: unknown key{_suggest(key, RECIPE_KEYS)}; "
                f"valid keys: {', '.join(RECIPE_KEYS)}"
            )
    out = dict(section)
    if "shard_tokens" in out:
        out["shard_tokens"] = parse_count(out["shard_tokens"], f"--recipe {path}: tokenize.shard_tokens")
    if "eos_id" in out and (isinstance(out["eos_id"], bool) or not isinstance(out["eos_id"], int)):
        raise UserError(f"--recipe {path}: tokenize.eos_id: expected an integer, got {out['eos_id']!r}")
    for key in ("tokenizer", "group_by", "data_root"):
        if key in out and not isinstance(out[key], str):
            raise UserError(f"--recipe {path}: tokenize.{key}: expected a string, got {out[key]!r}")
    mix = out.get("mix") or {}
    if not isinstance(mix, dict):
        raise UserError(f"--recipe {path}: tokenize.mix: expected a mapping GROUP: WEIGHT")
    out["mix"] = {str(g): check_weight(w, f"--recipe {path}: tokenize.mix.{g}") for g, w in mix.items()}
    return out


def compile_group_by(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise UserError(f"--group-by {pattern}: not a regular expression ({e.msg})") from None


def group_of(source: str | None, pattern: re.Pattern) -> str:
    """The group of a document (see the module docstring).

    >>> p = re.compile(DEFAULT_GROUP_BY)
    >>> group_of("medtxt-cr", p), group_of("pmc/oa/PMC1.nxml", p), group_of("a b/c", p)
    ('medtxt-cr', 'pmc', 'a_b')
    >>> group_of("reports/2024.jsonl", re.compile(r"(\\d{4})")), group_of("x", re.compile(r"\\d"))
    ('2024', 'other')
    """
    m = pattern.search(source or "")
    if m is None:
        return UNMATCHED_GROUP
    name = m.group(1) if pattern.groups else m.group(0)
    name = _UNSAFE.sub("_", name or "").lstrip(".")
    return name or "_"


def weights_for(groups: list[str], mix: dict[str, float]) -> dict[str, float]:
    """Each group's weight; a ``mix`` key that names no group is a UserError listing the groups."""
    unknown = [g for g in mix if g != "*" and g not in groups]
    if unknown:
        raise UserError(
            f"--mix {unknown[0]}: no such group{_suggest(unknown[0], groups)}; the corpus has: "
            f"{', '.join(groups[:30])}{' ...' if len(groups) > 30 else ''} (set --group-by to group sources differently)"
        )
    default = mix.get("*", 1.0)
    weights = {g: mix.get(g, default) for g in groups}
    if groups and not any(weights.values()):
        raise UserError("--mix: every group has weight 0; give at least one group a weight > 0")
    return weights


def resolve_options(
    recipe: str | None, corpus: str, output: str, *, mix: list[str], **given
) -> TokenizeOptions:
    """Options from the recipe's ``tokenize:`` section overridden by the command line's (``None``:
    not given); ``--mix`` entries are added to the recipe's ``mix``."""
    values = load_recipe_section(recipe) if recipe else {}
    values["mix"] = {**values.get("mix", {}), **parse_mix(mix)}
    for key, value in given.items():
        if value is not None:
            values[key] = parse_count(value) if key == "shard_tokens" else value
    if not values.get("tokenizer"):
        raise UserError("--tokenizer is required (or tokenizer: in the --recipe file's tokenize: section)")
    return TokenizeOptions(corpus=corpus, output=output, **values)
