"""``jmedcorpus tokenize``: the driver. A complete build → Megatron indexed datasets per group.

1. **checks**, before anything is written: ``OUT/manifest.json`` exists (a complete build), the
   shards have ``text`` and ``source`` columns, the tokenizer loads (fast, with an EOS id) and
   encodes the first documents as transformers does, the groups and ``--mix`` agree, and the
   output holds nothing made with other settings.
2. **tokenize**: one Ray task per unit (:mod:`jmedcorpus.tokenize.units`); done units are skipped.
3. **write**: shards cut by token count (:mod:`jmedcorpus.tokenize.shards`), one Ray task each;
   a shard already complete on disk is kept. Files of other plans are removed.
4. **mix and manifest** (:mod:`jmedcorpus.tokenize.manifest`): ``data_paths.txt``, then
   ``manifest.json`` last (deleted when work starts): an output with a manifest is complete.

A killed run re-run with the same command resumes; the same command on a finished output is
"up to date" without starting Ray (and rewrites ``data_paths.txt`` when ``--mix`` or
``--data-root`` changed). Another tokenizer, EOS id, ``--group-by``, ``--shard-tokens`` or
corpus on the same output is refused with what changed (``--overwrite`` replaces it).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow.parquet as pq

from jmedcorpus.errors import RunFailed, UserError
from jmedcorpus.io import layout
from jmedcorpus.io.fingerprint import fingerprint
from jmedcorpus.io.outdir import LOCK_FILE, check_output_dir, check_writable, output_lock
from jmedcorpus.io.parquet import atomic_write_json, atomic_write_text, remove_temporaries
from jmedcorpus.pipelines.ray_tasks import check_cluster_reachable, choose_engine, run_tasks, task_runtime
from jmedcorpus.tokenize import manifest as mf
from jmedcorpus.tokenize import megatron, shards, units
from jmedcorpus.tokenize.settings import MAX_GROUPS, TokenizeOptions, compile_group_by, group_of, weights_for
from jmedcorpus.tokenize.tokenizer import (
    PARITY_DOCUMENTS,
    check_parity,
    check_tokenizer_path,
    load_backend,
    load_tokenizer,
)

MARKER = ".jmedcorpus-tokenize"  # written first into every output directory this command creates
MANIFEST, WORK = layout.MANIFEST, layout.WORK


def tokenize(opts: TokenizeOptions) -> dict:
    """Run ``tokenize``; returns the manifest. Raises UserError or RunFailed (tasks failed)."""
    started = time.time()
    corpus, out = os.path.abspath(opts.corpus), os.path.abspath(opts.output)
    inputs = input_shards(corpus)
    if opts.shard_tokens < 1:
        raise UserError(f"--shard-tokens {opts.shard_tokens}: must be >= 1")
    if opts.workers < 1:
        raise UserError(f"--workers must be >= 1, got {opts.workers}")
    compile_group_by(opts.group_by)
    root = opts.data_root or out
    if any(c.isspace() for c in root):
        raise UserError(
            f"--data-root {root}: Megatron splits its data-path list on whitespace; use a path without spaces"
        )
    if out == corpus or out.startswith(corpus + os.sep):
        raise UserError(f"--output {opts.output}: must not be inside the build's output {opts.corpus}")
    _check_output_dir(out, opts.output)
    check_tokenizer_path(opts.tokenizer)
    if opts.ray_address:
        check_cluster_reachable(opts.ray_address)
    engine = choose_engine(opts.engine, opts.ray_address, sum(os.path.getsize(p) for p in inputs))
    if engine == "processes":
        # the driver checks the tokenizer before forking: its Rust thread pool must not have
        # started, or every child would print a fork warning (each task uses one core anyway)
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    with contextlib.ExitStack() as stack:
        runtime = _LazyRuntime(opts, engine, stack)
        with ThreadPoolExecutor(max_workers=1) as pool:
            loading = pool.submit(load_tokenizer, opts.tokenizer, opts.eos_id)
            if not os.path.exists(os.path.join(out, MANIFEST)):
                runtime.start()  # work ahead: Ray starts while transformers imports (seconds each)
            info, tok = loading.result()
        return _checked(opts, corpus, out, inputs, info, tok, root, runtime, started)


def _checked(opts, corpus, out, inputs, info, tok, root, runtime, started) -> dict:
    groups, sources = _groups(inputs, opts.group_by)
    weights = weights_for(groups, opts.mix)
    check_parity(tok, _first_texts(inputs, PARITY_DOCUMENTS))
    check_writable(out)
    os.makedirs(out, exist_ok=True)
    decisive = {
        "tokenizer": info.sha256,
        "eos_id": info.eos_id,
        "group_by": opts.group_by,
        "shard_tokens": opts.shard_tokens,
        "inputs": [_stamp(p) for p in inputs],
    }
    with output_lock(out):
        fp = _claim(opts, out, decisive)
        manifest_path = os.path.join(out, MANIFEST)
        old = _read_json(manifest_path)
        if old and old.get("fingerprint") == fp and mf.all_complete(out, old["shards"], info.dtype):
            return mf.remix(old, weights, root, out, manifest_path)
        if os.path.exists(manifest_path):
            os.remove(manifest_path)
        backend_path = os.path.join(out, WORK, "tokenizer.json")
        atomic_write_text(tok.backend_tokenizer.to_str(), backend_path)
        run = _Run(opts, out, info, inputs, backend_path, runtime)
        results, plan, written = run.execute(groups)
        _remove_stale(out, {s["prefix"] for s in plan}, set(run.dirs.values()))
        m = mf.build_manifest(
            out, corpus, inputs, info, fp, decisive, groups, sources, results, plan, written
        )
        m["run"] = run.report(plan, written, started)
        return mf.remix(m, weights, root, out, manifest_path, up_to_date=False)


def input_shards(corpus: str) -> list[str]:
    """The kept shards of a complete build, checked; one-line UserErrors."""
    if not os.path.isdir(corpus):
        raise UserError(f"{corpus}: no such directory; give the output directory of `jmedcorpus build`")
    if not os.path.isfile(os.path.join(corpus, MANIFEST)):
        raise UserError(
            f"{corpus}: no manifest.json, so not a complete `jmedcorpus build` output; re-run the build to finish it"
        )
    found = sorted(glob.glob(os.path.join(corpus, layout.DATA, "*.parquet")))
    if not found:
        raise UserError(f"{corpus}: no Parquet shards in {os.path.join(corpus, layout.DATA)}")
    for path in found:
        names = pq.read_schema(path).names
        missing = [c for c in ("text", "source") if c not in names]
        if missing:
            hint = (
                " (a synth output? tokenize reads `jmedcorpus build` outputs)" if "messages" in names else ""
            )
            raise UserError(f"{path}: no {' or '.join(missing)} column{hint}")
    return found


def _check_output_dir(out: str, given: str) -> None:
    check_output_dir(out, MARKER, "a `jmedcorpus tokenize` output", given)


def _stamp(path: str) -> list:
    return [os.path.basename(path), os.path.getsize(path), os.stat(path).st_mtime_ns]


def _claim(opts: TokenizeOptions, out: str, decisive: dict) -> str:
    """Refuse an output holding work of other settings (unless ``--overwrite``: it is cleared);
    record this run's settings; returns their fingerprint."""
    fp = fingerprint(decisive)
    work = os.path.join(out, WORK)
    previous = (
        _read_json(os.path.join(work, "settings.json")) or _read_json(os.path.join(out, MANIFEST)) or {}
    )
    if previous.get("fingerprint") != fp:
        if previous and _produced(out) and not opts.overwrite:
            changed = [k for k in decisive if previous.get("settings", {}).get(k) != decisive[k]]
            raise UserError(
                f"--output {opts.output} holds tokens made with other settings (changed: "
                f"{', '.join(changed) or 'version'}); use a new --output, or add --overwrite to replace them"
            )
        for name in set(os.listdir(out)) - {LOCK_FILE}:  # nothing of another run is kept
            path = os.path.join(out, name)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
    with open(os.path.join(out, MARKER), "w", encoding="utf-8") as f:
        f.write("written by jmedcorpus tokenize; its presence lets a re-run reuse this directory\n")
    remove_temporaries(out)
    atomic_write_json({"fingerprint": fp, "settings": decisive}, os.path.join(work, "settings.json"))
    return fp


class _LazyRuntime:
    """The task engine of this command, started at most once: early when work is likely, else at
    the first stage with work (never when every unit and shard is done); Ray is shut down when
    ``stack`` closes. Forked processes (``engine`` ``processes``) cost nothing to start."""

    def __init__(self, opts: TokenizeOptions, engine: str, stack: contextlib.ExitStack):
        self.opts, self.engine, self.stack, self.seconds, self.started = opts, engine, stack, 0.0, False

    def start(self) -> None:
        if not self.started:
            t = time.time()
            self.stack.enter_context(task_runtime(self.engine, self.opts.workers, self.opts.ray_address))
            self.started, self.seconds = True, time.time() - t


class _Run:
    """The Ray stages of one run."""

    def __init__(self, opts: TokenizeOptions, out: str, info, inputs: list[str], backend_path: str, runtime):
        self.opts, self.out, self.info, self.backend_path, self.runtime = (
            opts,
            out,
            info,
            backend_path,
            runtime,
        )
        self.units = units.plan_units(inputs, opts.unit_mb)
        unit_fp = fingerprint(info.sha256, info.eos_id, opts.group_by)
        self.dirs = {
            u.key: os.path.join(
                out, WORK, "units", f"{u.key}-{fingerprint(unit_fp, _stamp(u.path), u.to_dict())}"
            )
            for u in self.units
        }
        self.settings = {
            "eos_id": info.eos_id,
            "dtype": info.dtype,
            "group_by": opts.group_by,
            "fault": opts.fault,
        }
        self.timing = {"tokenize": 0.0, "write": 0.0}
        self.task_seconds = self.task_cpu_seconds = 0.0
        self.units_tokenized = self.tokens_tokenized = self.shards_written = 0

    def execute(self, groups: list[str]) -> tuple[dict, list[dict], dict]:
        """Tokenize the units not done, plan the shards, write those not complete on disk."""
        self._tokenize(
            [u for u in self.units if not os.path.exists(os.path.join(self.dirs[u.key], units.RESULT))]
        )
        results = {u.key: _read_json(os.path.join(self.dirs[u.key], units.RESULT)) for u in self.units}
        plan = shards.plan_shards(
            groups, [u.key for u in self.units], self.dirs, results, self.opts.shard_tokens
        )
        expected = {s["prefix"]: shards.shard_sizes(s) for s in plan}
        dtype = np.dtype(self.info.dtype)
        todo = [
            s
            for s in plan
            if not megatron.complete_dataset(
                os.path.join(self.out, s["prefix"]), expected[s["prefix"]], dtype
            )
        ]
        # A damaged shard of a finished run: the token files of its units were deleted; redo them.
        again = {
            d
            for s in todo
            for d, _, _ in s["slices"]
            if not os.path.exists(os.path.join(d, f"{s['group']}.bin"))
        }
        if again:
            for d in again:
                shutil.rmtree(d)
            self._tokenize([u for u in self.units if self.dirs[u.key] in again])
            if any(not np.array_equal(shards.shard_sizes(s), expected[s["prefix"]]) for s in todo):
                raise RunFailed(
                    "tokenize failed: tokenizing again gave other token counts; re-run with --overwrite"
                )
        if todo:
            self.runtime.start()
        t = time.time()
        calls = [(s["prefix"], (s, self.out, self.info.dtype)) for s in todo]
        written = self._run(shards.write_shard, calls, "write")
        self.timing["write"] += time.time() - t
        self.shards_written = len(todo)
        return results, plan, written

    def report(self, plan: list[dict], written: dict, started: float) -> dict:
        return {
            "units": len(self.units),
            "units_tokenized": self.units_tokenized,
            "tokens_tokenized": self.tokens_tokenized,
            "shards_written": self.shards_written,
            "shards_kept": len(plan) - self.shards_written,
            "tokenize_task_seconds": round(self.task_seconds, 3),
            "tokenize_task_cpu_seconds": round(self.task_cpu_seconds, 3),
            "engine": self.runtime.engine,
            "timing_seconds": {
                "ray_start": round(self.runtime.seconds, 3),
                **{k: round(v, 3) for k, v in self.timing.items()},
                "total": round(time.time() - started, 3),
            },
        }

    def _tokenize(self, todo: list[units.Unit]) -> None:
        if todo:
            self.runtime.start()
            if self.runtime.engine == "processes":
                load_backend(self.backend_path)  # once here, inherited by every forked task
        t = time.time()
        calls = [(u.key, (u, self.dirs[u.key], self.backend_path, self.settings)) for u in todo]
        results = self._run(units.tokenize_unit, calls, "tokenize")
        self.timing["tokenize"] += time.time() - t
        self.units_tokenized += len(todo)
        self.tokens_tokenized += sum(g["tokens"] for r in results.values() for g in r["groups"].values())
        self.task_seconds += sum(r["seconds"] for r in results.values())
        self.task_cpu_seconds += sum(r["cpu_seconds"] for r in results.values())

    def _run(self, fn, calls: list, desc: str) -> dict:
        if not calls:
            return {}
        self.runtime.start()
        results, failures = run_tasks(
            fn, calls, limit=self.opts.workers, desc=desc, progress=self.opts.progress
        )
        if failures:
            head = f"tokenize failed: {len(failures)} of {len(calls)} {desc} task(s) failed; completed work is kept"
            lines = [head + ", re-run the same command to retry"]
            lines += [f"  {f.label}: {f.error}" for f in sorted(failures, key=lambda f: f.label)]
            raise RunFailed("\n".join(lines))
        return results


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("kind", mf.KIND) == mf.KIND else None


def _groups(inputs: list[str], group_by: str) -> tuple[list[str], dict[str, str]]:
    """The sorted groups of the corpus and the group of each distinct source."""
    pattern = compile_group_by(group_by)
    distinct: set[str] = set()
    for path in inputs:
        column = pq.read_table(path, columns=["source"]).column("source").fill_null("")
        distinct.update(column.unique().to_pylist())
    sources = {s: group_of(s, pattern) for s in sorted(distinct)}
    groups = sorted(set(sources.values()))
    if len(groups) > MAX_GROUPS:
        raise UserError(
            f"--group-by {group_by}: {len(groups):,} groups (more than {MAX_GROUPS}); give a --group-by "
            "regular expression that maps sources to fewer groups, e.g. '^[^/]+' (the first path component)"
        )
    return groups, sources


def _produced(out: str) -> bool:
    """Whether an earlier run on ``out`` tokenized or wrote anything."""
    return bool(
        os.path.exists(os.path.join(out, MANIFEST))
        or glob.glob(os.path.join(out, WORK, "units", "*", units.RESULT))
        or glob.glob(os.path.join(out, "*", "part-*"))
    )


def _first_texts(inputs: list[str], n: int) -> list[str]:
    for batch in pq.ParquetFile(inputs[0]).iter_batches(batch_size=n, columns=["text"]):
        return batch.column(0).fill_null("").to_pylist()
    return []


def _remove_stale(out: str, prefixes: set[str], unit_dirs: set[str]) -> None:
    """Shards of another plan and units of other settings go; token files of finished units too."""
    for name in os.listdir(out):
        directory = os.path.join(out, name)
        if name.startswith(".") or not os.path.isdir(directory):
            continue
        for f in os.listdir(directory):
            stem = f.removesuffix(".bin").removesuffix(".idx")
            if f.startswith("part-") and f"{name}/{stem}" not in prefixes:
                os.remove(os.path.join(directory, f))
        if not os.listdir(directory):
            os.rmdir(directory)
    for d in glob.glob(os.path.join(out, WORK, "units", "*")):
        if d not in unit_dirs:
            shutil.rmtree(d)
        else:
            units.drop_token_files(d)
