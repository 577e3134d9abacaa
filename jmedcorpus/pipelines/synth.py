"""``jmedcorpus synth``: the driver.

1. **passages**: one Ray task per input shard cuts documents into passages and keeps the best
   ranked eligible ones (:mod:`jmedcorpus.pipelines.synth_passages`); the selection is saved in
   ``OUT/.work/passages.parquet``, so a resumed run asks the same questions.
2. **generate**: the selected passages, sorted by (document, passage), are cut into chunks of
   ``output.chunk_size``. A background thread sends each chunk's requests to the engine (those
   not already in the request cache, :mod:`jmedcorpus.synth.cache`) while the main thread judges
   and writes the chunk before: the engine never waits for parsing and validation.
3. **judge and write**, in chunk order: each completion is accepted or rejected with reasons
   (:class:`jmedcorpus.synth.records.Judge`; with ``answer_check``/``judge`` on, the items that
   pass the rules are then put to a model, :mod:`jmedcorpus.synth.model_checks`), then
   ``OUT/rejected/part-XXXXX.parquet`` and ``OUT/data/train-XXXXX-of-YYYYY.parquet`` are
   written atomically and a chunk marker last.
   A passage belongs to exactly one chunk and a chunk is written once, so a killed run re-run
   with the same command writes no passage twice and re-sends nothing it already received.
4. **manifest**: counts per reason, throughput of this run, the settings, versions. Written last
   (deleted when a run starts): an output with a ``manifest.json`` is complete.

``selected passages = accepted + rejected``, always (checked before the manifest is written).
The EHR normalization template (``ehr_lab_name_v1``) generates from local names instead: each
distinct name found in the selected passages (or listed in ``--local-names``) is one unit, and
``local names = accepted + rejected``.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import time
from dataclasses import dataclass, field

from jmedcorpus.errors import RunFailed, UserError
from jmedcorpus.io import layout
from jmedcorpus.io.fingerprint import file_stamp, fingerprint
from jmedcorpus.io.outdir import check_output_dir, check_writable, output_lock
from jmedcorpus.io.parquet import atomic_write_json, remove_temporaries
from jmedcorpus.pipelines import synth_passages
from jmedcorpus.pipelines.ray_tasks import ray_runtime, run_tasks
from jmedcorpus.pipelines.synth_chunks import ChunkRun
from jmedcorpus.pipelines.synth_manifest import synth_manifest
from jmedcorpus.synth.answer_check import AnswerCheck
from jmedcorpus.synth.cache import CACHE_DIR
from jmedcorpus.synth.config import SynthRecipe
from jmedcorpus.synth.contamination import ContaminationIndex
from jmedcorpus.synth.ehr_master import StandardMaster, format_candidates
from jmedcorpus.synth.ehr_names import units_from_file, units_from_passages
from jmedcorpus.synth.engines.base import Engine
from jmedcorpus.synth.model_checks import ModelChecks
from jmedcorpus.synth.prompts import load_template
from jmedcorpus.synth.rubric_judge import RubricJudge


@dataclass
class SynthOptions:
    inputs: list[str]
    output: str
    recipe: SynthRecipe
    decontaminate_against: list[str] = field(default_factory=list)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    ray_address: str | None = None
    progress: bool = True
    retry_errors: bool = False  # redo chunks that had engine errors (served requests come from the cache)
    engine: Engine | None = None  # an engine already built (tests, benchmarks); else from the recipe
    judge_engine: Engine | None = None  # the judge's engine already built; else from recipe.judge


def _settings_fingerprint(recipe: SynthRecipe, shards: list[str], bench_files: list[str]) -> tuple[str, dict]:
    """What decides the output. Engine name and options (concurrency, timeouts, GPUs) do not:
    the same model served another way may finish a run. The model checks and the EHR files
    count only when used, so outputs made before they existed keep their fingerprint."""
    resolved = recipe.to_dict()
    decisive = {
        "template": resolved["template"],
        "model": resolved["engine"]["model"],
        "sampling": resolved["sampling"],
        "passages": resolved["passages"],
        "validation": resolved["validation"],
        "chunk_size": resolved["output"]["chunk_size"],
        "inputs": [file_stamp(p) for p in shards],
        "decontaminate_against": [file_stamp(p) for p in bench_files],
    }
    if recipe.answer_check.enabled:
        decisive["answer_check"] = resolved["answer_check"]
    if recipe.judge.enabled:
        judge = {k: v for k, v in resolved["judge"].items() if k != "engine"}
        own = recipe.judge.engine_settings(recipe.engine)
        decisive["judge"] = {**judge, "model": (own or recipe.engine).model}
    if recipe.ehr.master:
        e = recipe.ehr
        stamps = {
            k: file_stamp(os.path.abspath(v))
            for k, v in (("master", e.master), ("local_names", e.local_names))
            if v
        }
        decisive["ehr"] = {**resolved["ehr"], **stamps}
    return fingerprint(decisive), decisive


def _contamination(paths: list[str], recipe: SynthRecipe) -> ContaminationIndex | None:
    """One index over every ``--decontaminate-against`` file (JSONL, one benchmark item per line)."""
    if not paths:
        return None
    v = recipe.validation
    for path in paths:
        if not os.path.isfile(path):
            raise UserError(f"--decontaminate-against {path}: no such file; give a JSONL benchmark file")
    try:
        return ContaminationIndex.from_jsonl(
            paths, v.contamination_field, v.contamination_ngram, min_fraction=v.contamination_min_fraction
        )
    except ValueError as e:  # names the line, never its text
        raise UserError(
            f"--decontaminate-against {e}; set validation.contamination_field to the field holding the question"
        ) from None


def synth(opts: SynthOptions) -> dict:
    """Run ``synth``; returns the manifest. Raises UserError (bad input) or RunFailed."""
    started = time.time()
    recipe, out = opts.recipe.check(), os.path.abspath(opts.output)
    template = load_template(recipe.template)
    master = StandardMaster.from_csv(recipe.ehr.master) if template.kind == "ehr" else None
    if recipe.ehr.local_names and not os.path.isfile(recipe.ehr.local_names):
        raise UserError(f"--local-names {recipe.ehr.local_names}: no such file; give one local name per line")
    check_output_dir(out, layout.MARKER, "a jmedcorpus output")
    shards = synth_passages.input_shards(opts.inputs)
    bench_files = [os.path.abspath(p) for p in opts.decontaminate_against]
    fp, decisive = _settings_fingerprint(recipe, shards, bench_files)
    contamination = _contamination(bench_files, recipe)
    check_writable(out)
    os.makedirs(out, exist_ok=True)
    with output_lock(out):
        parts = (template, master, contamination)
        return _synth_locked(opts, recipe, parts, out, shards, fp, decisive, started)


def _generated_anything(out: str) -> bool:
    """Whether an earlier run on ``out`` generated or wrote anything (a chunk, a cached answer)."""
    if glob.glob(os.path.join(out, ".work", "chunks", "*.json")) or os.path.exists(
        os.path.join(out, layout.MANIFEST)
    ):
        return True
    return any(os.path.getsize(p) for p in glob.glob(os.path.join(out, CACHE_DIR, "*.jsonl")))


def _synth_locked(opts, recipe, parts, out, shards, fp, decisive, started) -> dict:
    template, master, contamination = parts
    work = os.path.join(out, ".work")
    settings_path = os.path.join(work, "settings.json")
    if os.path.exists(settings_path):
        with open(settings_path, encoding="utf-8") as f:
            previous = json.load(f)
        if previous.get("fingerprint") != fp:
            if _generated_anything(out):
                changed = sorted(k for k in decisive if previous.get("settings", {}).get(k) != decisive[k])
                raise UserError(
                    f"--output {opts.output} holds synth output made with other settings (changed: "
                    f"{', '.join(changed) or 'version'}); use a new --output, or delete it to start over"
                )
            # The earlier run failed before generating anything (no vLLM, a wrong model): nothing
            # to protect, so the corrected command starts afresh.
            shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(out, layout.MARKER), "w", encoding="utf-8") as f:
        f.write("written by jmedcorpus synth; its presence lets a re-run reuse this directory\n")
    remove_temporaries(out)
    atomic_write_json({"fingerprint": fp, "settings": decisive}, settings_path)
    manifest_path = os.path.join(out, layout.MANIFEST)
    if os.path.exists(manifest_path):
        os.remove(manifest_path)

    with ray_runtime(opts.workers, opts.ray_address):
        # The engine first: a wrong model, a missing vLLM or a server that is down fails in
        # seconds, not after the passages of the whole corpus were cut.
        engine = opts.engine or _engine(recipe.engine)
        own = recipe.judge.engine_settings(recipe.engine) if recipe.judge.enabled else None
        judge_engine = opts.judge_engine or (_engine(own) if own is not None else None)
        try:
            passages, selection = _passages(opts, recipe, shards, work)
            messages_of = None
            if template.kind == "ehr":
                passages, selection["local_names"] = ehr_units(passages, recipe.ehr)
                messages_of = ehr_messages_of(template, master, recipe.ehr.candidates)
            chunk_size = recipe.output.chunk_size
            chunks = [passages[i : i + chunk_size] for i in range(0, len(passages), chunk_size)]
            checks = model_checks(recipe, (judge_engine or engine).model)
            parts = {
                "checks": checks,
                "judge_engine": judge_engine,
                "master": master,
                "messages_of": messages_of,
            }
            run = ChunkRun(opts, recipe, template, engine, contamination, out, chunks, **parts)
            run.execute()
        finally:
            if opts.engine is None:
                engine.close()
            if judge_engine is not None and opts.judge_engine is None:
                judge_engine.close()
    manifest = synth_manifest(run, selection, fp, started)
    atomic_write_json(manifest, manifest_path)
    return manifest


def _engine(settings) -> Engine:
    from jmedcorpus.synth.engines import make_engine

    return make_engine(settings.name, settings.model, settings.options)


def model_checks(recipe: SynthRecipe, judge_model: str) -> ModelChecks:
    """The model checks the recipe turns on (:mod:`jmedcorpus.synth.model_checks`)."""
    a, j = recipe.answer_check, recipe.judge
    answer_check = None
    if a.enabled:
        answer_check = AnswerCheck(
            k=a.k,
            min_agreement=a.min_agreement,
            with_passage=a.with_passage,
            sampling=a.sampling(),
            prompt=a.prompt,
        )
    judge = RubricJudge(rubric=j.rubric, min_score=j.min_score, sampling=j.sampling()) if j.enabled else None
    return ModelChecks(answer_check=answer_check, judge=judge, judge_model=judge_model)


def ehr_units(passages: list, settings) -> tuple[list, dict]:
    """The EHR template's units: the local names of ``--local-names``, else those found in the
    selected passages (:mod:`jmedcorpus.synth.ehr_names`); and their counts."""
    if settings.local_names:
        return units_from_file(settings.local_names, settings.max_names)
    return units_from_passages(passages, settings.max_names)


def ehr_messages_of(template, master: StandardMaster, n: int):
    """The prompt of one local name: its passage (if any) and the master's ``n`` closest entries."""

    def messages(unit) -> list[dict]:
        candidates = format_candidates(master.candidates(unit.local_name, n))
        return template.messages(
            unit.text or "（本文なし）", local_name=unit.local_name, candidates=candidates
        )

    return messages


def _passages(opts: SynthOptions, recipe: SynthRecipe, shards: list[str], work: str):
    path, meta_path = os.path.join(work, "passages.parquet"), os.path.join(work, "selection.json")
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            return synth_passages.load_passages(path), json.load(f)
    settings, seed = vars(recipe.passages), recipe.sampling.seed
    calls = [(p, (p, settings, seed)) for p in shards]
    results, failures = run_tasks(
        synth_passages.select_in_shard, calls, limit=opts.workers, desc="passages", progress=opts.progress
    )
    problems = [r["error"] for r in results.values() if "error" in r]
    if problems:
        raise UserError(f"--input {problems[0]}; --text-field/--id-field name the columns")
    if failures:
        raise RunFailed(
            "synth failed: passage tasks failed: " + "; ".join(f"{f.label}: {f.error}" for f in failures)
        )
    passages, skipped, stats = synth_passages.merge_selections(
        [results[p] for p in shards], recipe.passages.n, seed
    )
    selection = {**stats, "selected": len(passages), "skipped": skipped}
    synth_passages.save_passages(passages, path)
    atomic_write_json(selection, meta_path)
    return passages, selection
