"""``jmedcorpus build``: the driver.

Stages, each a set of Ray tasks with a barrier between them:

1. **process**: one task per work unit (see :mod:`jmedcorpus.io.plan`) runs the per-document
   steps (:mod:`jmedcorpus.pipelines.unit`) and writes the unit's results under
   ``OUT/.work/units/``. A unit whose ``result.json`` exists from an earlier run with the same
   recipe and the same input file is not run again: a killed build resumes.
2. **global steps**, in recipe order, then repeated ids: each step's ``run_stage``
   (:mod:`jmedcorpus.dedup.stage`): exact dedup (one task per hash bucket), near-duplicate dedup
   (one task per band-key bucket, then one clustering task); each sees only what the earlier
   ones kept.
3. **publish**: one task per unit writes its removed and quarantined records under their final
   names; one task per shard writes ``OUT/data/train-XXXXX-of-YYYYY.parquet``. The manifest is
   deleted when publishing starts and written last: an output with a ``manifest.json`` is complete.

Any failed task fails the build (exit 1) with a per-task summary; completed work is kept for the
re-run.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field

from jmedcorpus import __version__
from jmedcorpus.dedup.duplicate_ids import DUPLICATE_IDS, DuplicateIds
from jmedcorpus.dedup.stage import Corpus
from jmedcorpus.errors import RunFailed, UserError
from jmedcorpus.io import layout
from jmedcorpus.io.fingerprint import file_stamp, fingerprint
from jmedcorpus.io.jats import JATS_FIELDS
from jmedcorpus.io.outdir import check_output_dir, check_writable, os_error_message, output_lock
from jmedcorpus.io.parquet import atomic_write_json, remove_temporaries
from jmedcorpus.io.plan import WorkUnit, plan_units
from jmedcorpus.pipelines import publish
from jmedcorpus.pipelines.ray_tasks import (
    TaskFailure,
    check_cluster_reachable,
    choose_engine,
    run_tasks,
    task_runtime,
)
from jmedcorpus.pipelines.unit import RESULT_FILE, load_step_resources, process_unit, step_names
from jmedcorpus.recipe import Recipe

MANIFEST = layout.MANIFEST
OWNER_MARKER = layout.MARKER  # written first into every output directory this tool creates
BUCKET_INPUT_BYTES = 64 << 20  # one dedup hash bucket per 64 MB of input
MIN_UNITS = 32  # small inputs are cut into ~32 units (>= 256 KB each) so that every worker has work


BuildFailed = RunFailed  # the name build's callers and tests know


@dataclass
class BuildOptions:
    inputs: list[str]
    output: str
    recipe: Recipe
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    ray_address: str | None = None
    engine: str = "auto"  # ray | processes | auto (processes for a small local build): ENGINES
    progress: bool = True
    overwrite: bool = False  # replace an output built with another recipe
    fault: dict | None = (
        None  # test hook: {"unit": index, "kind": "raise"|"crash"|"crash_once"|"delete", "marker"|"path": path}
    )


def _unit_dir(work: str, unit: WorkUnit, recipe_fp: str, n_buckets: int) -> str:
    paths = [unit.path] + [p for p, _ in unit.files]
    stats = [tuple(file_stamp(p)) for p in dict.fromkeys(paths)]
    return os.path.join(work, "units", f"{unit.key}-{fingerprint(recipe_fp, unit, stats, n_buckets)}")


def _check_output_dir(out: str) -> None:
    check_output_dir(out, OWNER_MARKER, "a jmedcorpus output")


def _run_unit(unit, recipe, unit_dir, n_buckets, fault, reader_fields=None):
    """Ray task: process one unit (skipping it if an earlier run completed it)."""
    done = os.path.join(unit_dir, RESULT_FILE)
    if os.path.exists(done):
        with open(done, encoding="utf-8") as f:
            return json.load(f)
    if fault and fault.get("unit") == unit.index:
        _inject_fault(fault)
    return process_unit(unit, recipe, unit_dir, n_buckets, reader_fields)


def _inject_fault(fault: dict) -> None:
    kind = fault["kind"]
    if kind == "delete":  # an input file removed while the build runs
        os.remove(fault["path"])
        return
    if kind == "raise":
        raise RuntimeError("injected fault")
    if kind == "crash" or (kind == "crash_once" and not os.path.exists(fault["marker"])):
        if kind == "crash_once":
            open(fault["marker"], "w").close()
        os._exit(1)  # a hard-killed worker: no exception, the process is gone


def _summary(stage: str, failures: list[TaskFailure], total: int) -> str:
    lines = [
        f"build failed: {len(failures)} of {total} {stage} task(s) failed; completed work is kept, re-run the same command to retry"
    ]
    lines += [f"  {f.label}: {f.error}" for f in sorted(failures, key=lambda f: f.label)]
    for code, advice in (
        ("[ENOSPC]", "no space left on the device of the output: free space there, then re-run"),
        ("[EDQUOT]", "disk quota exceeded on the output: free space there, then re-run"),
        ("[EACCES]", "permission denied writing the output: fix its permissions or choose another --output"),
    ):
        if any(code in f.error for f in failures):
            lines.insert(1, f"  {advice}")
    return "\n".join(lines)


def build(opts: BuildOptions) -> dict:
    """Run a build; returns the manifest. Raises UserError (bad input, a full disk, an output
    another run holds) or BuildFailed.

    Everything that can be refused is checked before the output is touched: the output folder,
    the inputs, the recipe against the output's earlier build, the cluster address."""
    out = os.path.abspath(opts.output)
    if opts.workers < 1:
        raise UserError(f"--workers must be >= 1, got {opts.workers}")
    _check_output_dir(out)
    check_writable(out)
    skipped: list = []
    units = plan_units(
        opts.inputs,
        chunk_bytes=max(1, int(opts.recipe.input.chunk_mb * (1 << 20))),
        skipped=skipped,
        min_units=MIN_UNITS,
    )
    # Input sizes as planned: an input deleted or rewritten during the build must not break the
    # manifest after everything was published.
    input_bytes = _input_sizes(units)
    engine = choose_engine(opts.engine, opts.ray_address, sum(input_bytes.values()))
    if opts.ray_address:
        check_cluster_reachable(opts.ray_address)
    # a cluster is joined before the output is touched: a refused connection (a token missing,
    # another Ray version) must leave no folder that would then refuse the corrected command
    joined = task_runtime(engine, opts.workers, opts.ray_address) if opts.ray_address else nullcontext()
    with joined:
        return _build_output(opts, out, units, skipped, engine, input_bytes)


def _build_output(opts, out, units, skipped, engine, input_bytes) -> dict:
    try:
        os.makedirs(out, exist_ok=True)
        with output_lock(out):
            return _build_locked(opts, out, units, skipped, engine, input_bytes)
    except OSError as e:
        message = os_error_message(e, out)
        if message is None:
            raise
        _remove_temporaries_quietly(out)
        raise UserError(message) from None
    except BuildFailed:
        _remove_temporaries_quietly(out)
        raise


def _remove_temporaries_quietly(out: str) -> None:
    try:
        remove_temporaries(out)
    except OSError:
        pass


def _previous_recipe(out: str) -> dict | None:
    """The recipe of the build this output holds: its manifest's, else that of an unfinished
    build (``.work/recipe.json``)."""
    for path, key in (
        (os.path.join(out, MANIFEST), "recipe"),
        (os.path.join(out, layout.WORK, "recipe.json"), None),
    ):
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        return data.get(key) if key else data
    return None


def recipe_changes(old, new, where: str = "") -> list[str]:
    """Dotted paths where two resolved recipes differ.

    >>> recipe_changes({"steps": [{"use": "a", "min": 1}]}, {"steps": [{"use": "a", "min": 2}]})
    ['steps[0].min']
    """
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            c
            for k in sorted(old.keys() | new.keys(), key=str)
            for c in recipe_changes(old.get(k), new.get(k), f"{where}.{k}" if where else str(k))
        ]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [c for i, (a, b) in enumerate(zip(old, new)) for c in recipe_changes(a, b, f"{where}[{i}]")]
    return [] if old == new else [where or "recipe"]


def _input_sizes(units: list[WorkUnit]) -> dict[str, int]:
    return {p: os.path.getsize(p) for u in units for p in dict.fromkeys([u.path, *(f for f, _ in u.files)])}


def _build_locked(
    opts: BuildOptions,
    out: str,
    units: list[WorkUnit],
    skipped: list,
    engine: str,
    input_bytes: dict[str, int],
) -> dict:
    started = time.time()
    recipe = opts.recipe
    total_bytes = sum(input_bytes.values())
    n_buckets = max(1, min(256, total_bytes // BUCKET_INPUT_BYTES + 1))
    resolved = recipe.to_dict()
    # Papers (JATS) bring their metadata columns (doi, journal, year, license...) to every shard.
    reader_fields = JATS_FIELDS if any(u.kind in ("jats", "archive") for u in units) else {}
    # Benchmark files are recipe parameters by path: their size and mtime decide too.
    benchmarks = [
        file_stamp(p)
        for s in recipe.steps
        if s.use == "decontaminate"
        for p in s.params.get("benchmarks", [])
        if os.path.exists(p)
    ]
    recipe_fp = fingerprint(resolved, __version__, sorted(reader_fields), benchmarks)
    work = os.path.join(out, layout.WORK)
    unit_dirs = {u.key: _unit_dir(work, u, recipe_fp, n_buckets) for u in units}
    build_fp = fingerprint(recipe_fp, sorted(unit_dirs.values()))
    manifest_path = os.path.join(out, MANIFEST)
    if os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            previous = json.load(f)
        if previous.get("fingerprint") == build_fp:
            previous["up_to_date"] = True
            return previous
    previous_recipe = _previous_recipe(out)
    if previous_recipe is not None and previous_recipe != resolved and not opts.overwrite:
        changed = recipe_changes(previous_recipe, resolved)
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        raise UserError(
            f"--output {opts.output} holds a build made with another recipe (changed: "
            f"{', '.join(changed[:5])}{more}); add --overwrite to replace it, or choose another --output"
        )
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(out, OWNER_MARKER), "w", encoding="utf-8") as f:
        f.write("written by jmedcorpus build; its presence lets a re-run reuse this directory\n")
    remove_temporaries(out)
    atomic_write_json(resolved, os.path.join(work, "recipe.json"))
    by_key = {u.key: u for u in units}
    names = step_names(recipe)
    global_steps = [(n, s) for n, s in zip(names, recipe.build_steps()) if getattr(s, "is_global", False)]

    with task_runtime(engine, opts.workers, opts.ray_address):
        limit = opts.workers
        if engine == "processes" and not all(
            os.path.exists(os.path.join(d, RESULT_FILE)) for d in unit_dirs.values()
        ):
            # loaded once here, shared copy-on-write by every forked task
            load_step_resources(recipe)
        calls = [(u.key, (u, recipe, unit_dirs[u.key], n_buckets, opts.fault, reader_fields)) for u in units]
        results, failures = run_tasks(_run_unit, calls, limit=limit, desc="process", progress=opts.progress)
        if failures:
            raise BuildFailed(
                _summary(
                    "process",
                    [TaskFailure(f"{f.label} ({by_key[f.label].describe()})", f.error) for f in failures],
                    len(units),
                )
            )
        t_process = time.time()

        def run_stage(fn, stage_calls, desc):
            done, failed = run_tasks(fn, stage_calls, limit=limit, desc=desc, progress=opts.progress)
            if failed:
                raise BuildFailed(_summary(desc, failed, len(stage_calls)))
            return done

        stage_work = os.path.join(work, f"global-{build_fp}")
        shutil.rmtree(stage_work, ignore_errors=True)  # partial outputs of an interrupted run
        corpus = Corpus(
            units=[(u.index, unit_dirs[u.key]) for u in units],
            results={u.index: results[u.key] for u in units},
            earlier=[],
        )
        for name, step in [*global_steps, (DUPLICATE_IDS, DuplicateIds())]:
            corpus.earlier.append(step.run_stage(name, corpus, n_buckets, stage_work, run_stage))
        stages = corpus.earlier
        t_dedup = time.time()

        if os.path.exists(manifest_path):
            os.remove(manifest_path)  # the output is incomplete until the new manifest is written
        line_offsets = publish.line_offsets(units, results)
        finalize_calls = [
            (
                u.key,
                (
                    u,
                    unit_dirs[u.key],
                    out,
                    stages,
                    line_offsets[u.key],
                    recipe.output.compression,
                    recipe.output.stats_term_sample,
                ),
            )
            for u in units
        ]
        finalized, failures = run_tasks(
            publish.finalize_unit, finalize_calls, limit=limit, desc="publish removed", progress=opts.progress
        )
        if failures:
            raise BuildFailed(_summary("publish", failures, len(units)))
        shard_plan = publish.plan_shards(units, finalized, unit_dirs, recipe.output.shard_mb)
        shard_calls = [(s["file"], (s, out, recipe.output.compression)) for s in shard_plan]
        shards, failures = run_tasks(
            publish.write_shard, shard_calls, limit=limit, desc="write shards", progress=opts.progress
        )
        if failures:
            raise BuildFailed(_summary("shard", failures, len(shard_plan)))

    produced = {os.path.join(out, layout.DATA, s["file"]) for s in shard_plan}
    for f in finalized.values():
        produced.update(os.path.join(out, path) for path in f["files"])
    publish.remove_stale(out, produced)
    manifest = _manifest(
        opts,
        recipe,
        resolved,
        units,
        results,
        stages,
        finalized,
        shards,
        shard_plan,
        build_fp,
        names,
        input_bytes,
        skipped,
    )
    manifest["engine"] = engine
    manifest["timing_seconds"] = {
        "process": round(t_process - started, 3),
        "dedup": round(t_dedup - t_process, 3),
        "publish": round(time.time() - t_dedup, 3),
        "total": round(time.time() - started, 3),
    }
    _write_stats_and_card(out, manifest, [f["stats"] for f in finalized.values()])
    atomic_write_json(manifest, manifest_path)
    shutil.rmtree(work, ignore_errors=True)
    return manifest


def _write_stats_and_card(out: str, manifest: dict, partials: list[dict]) -> None:
    """``OUT/stats/stats.json`` from the units' partials and ``OUT/README.md`` (the dataset card)
    from the same numbers; both before the manifest, which is written last."""
    from jmedcorpus.report.card import write_dataset_card
    from jmedcorpus.report.stats import finalize, merge
    from jmedcorpus.report.stats_files import write_stats

    stats = finalize(merge(partials), manifest)
    write_stats(stats, out)
    write_dataset_card(stats, manifest, out)


def _hints(opts, recipe, counts, results, skipped) -> list[str]:
    """Lines that tell the user what probably went wrong with an exit-0 build (names and counts,
    never text): the text field most records lack, ids reused, input files not read."""
    from jmedcorpus.constants import QUARANTINE_MISSING_TEXT

    hints = []
    missing = counts["quarantined_by_error"].get(QUARANTINE_MISSING_TEXT, 0)
    if missing and missing * 2 >= counts["records_in"]:
        keys = Counter()
        for r in results.values():
            keys.update(r.get("missing_text_keys", {}))
        fields = ", ".join(f"{k!r} ({v:,})" for k, v in keys.most_common(6)) or "none"
        field_name = recipe.input.text_field
        hints.append(
            f"warning: {missing:,} of {counts['records_in']:,} records have no field {field_name!r}; their fields: "
            f"{fields}; set --text-field NAME (or input.text_field in the recipe)"
        )
    if skipped:
        reasons = Counter(f.reason for f in skipped)
        listed = ", ".join(f"{r} {n:,}" for r, n in reasons.most_common())
        hints.append(
            f"note: {len(skipped):,} file(s) under --input were not read ({listed}); listed in manifest.json skipped_files"
        )
    return hints


def _manifest(
    opts,
    recipe,
    resolved,
    units,
    results,
    stages,
    finalized,
    shards,
    shard_plan,
    build_fp,
    names,
    input_bytes,
    skipped,
) -> dict:
    from jmedcorpus.versions import versions

    steps = []
    by_name = {st.name: st for st in stages}
    n_in = sum(r["kept"] for r in results.values())  # documents entering the first global step
    for name, spec in [*zip(names, recipe.steps), (DUPLICATE_IDS, None)]:
        if name in by_name:
            st = by_name[name]
            counted = Counter()  # what each unit's publish task removed and edited
            for f in finalized.values():
                counted.update(f["stages"][name])
            n_removed = counted.pop("removed", 0)
            use = spec.use if spec is not None else name  # duplicate_ids: built in, always last
            entry = {"name": name, "use": use, "in": n_in, "out": n_in - n_removed, "removed": n_removed}
            entry["reasons"] = {st.step.reason: n_removed} if n_removed else {}
            details = {**st.details, **counted}
            if details:
                entry["details"] = details
            steps.append(entry)
            n_in -= n_removed
            continue
        c = {"in": 0, "out": 0, "errors": 0, "reasons": Counter()}
        for r in results.values():
            s = r["steps"][name]
            c["in"] += s["in"]
            c["out"] += s["out"]
            c["errors"] += s.get("errors", 0)
            c["reasons"].update(s["reasons"])
        steps.append(
            {
                "name": name,
                "use": spec.use,
                "in": c["in"],
                "out": c["out"],
                "removed": sum(c["reasons"].values()),
                "quarantined_step_errors": c["errors"],
                "reasons": dict(c["reasons"].most_common()),
            }
        )
    quarantined = Counter()
    for r in results.values():
        quarantined.update(r["quarantined"])
    read = sum(r["documents_read"] for r in results.values())
    kept = sum(s["rows"] for s in shards.values())
    removed = sum(s["removed"] for s in steps)
    records_in = read + sum(v for k, v in quarantined.items() if k != "step_error")
    counts = {
        "records_in": records_in,
        "documents_read": read,
        "kept": kept,
        "removed": removed,
        "quarantined": sum(quarantined.values()),
        "quarantined_by_error": dict(quarantined.most_common()),
        "chars_in": sum(r["chars_in"] for r in results.values()),
        "kept_chars": sum(s["chars"] for s in shards.values()),
        "kept_mecab_tokens": sum(s["mecab_tokens"] for s in shards.values()),
    }
    if records_in != kept + removed + counts["quarantined"]:
        raise BuildFailed(
            f"build failed: accounting mismatch: {records_in} records in != {kept} kept + {removed} removed + {counts['quarantined']} quarantined"
        )
    hints = _hints(opts, recipe, counts, results, skipped)
    inputs = {}
    for u in units:
        for path in [u.path] + [p for p, _ in u.files]:
            inputs.setdefault(path, {"path": path, "bytes": input_bytes[path], "units": 0})
        inputs[u.path]["units"] += 1
    return {
        "jmedcorpus_version": __version__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fingerprint": build_fp,
        "command": sys.argv,
        "recipe_file": recipe.source,
        "recipe": resolved,
        "versions": versions(),
        "inputs": list(inputs.values()),
        "skipped_files": [{"path": f.path, "reason": f.reason} for f in skipped],
        "hints": hints,
        "work_units": len(units),
        "workers": opts.workers,
        "ray_address": opts.ray_address,
        "counts": counts,
        "steps": steps,
        "shards": [
            {"file": s["file"], "rows": shards[s["file"]]["rows"], "bytes": shards[s["file"]]["bytes"]}
            for s in shard_plan
        ],
    }
