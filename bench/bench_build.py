"""Throughput benchmark of ``jmedcorpus build`` against bare fugashi tokenization of the same text.

What it does, in one run:

1. **Input.** Builds at least ``--mb`` MB (10^6 bytes of UTF-8 in the ``text`` field) of
   *distinct* synthetic Japanese documents from the real samples in ``--data-dir``
   (``case_reports.jsonl``: Japanese case reports with full-width digits; ``igakuqa_2018_2022_ja.jsonl``:
   licensing-exam questions). The real texts are cut into sentences (after 。 ． or a newline);
   each document is 8-40 sentences drawn from one source with a seeded ``random.Random``, so
   documents are real-looking (p10/median/p90 ~0.7/1.7/4 KB) and distinct (exact dedup removes ~nothing). They are
   written as 4 JSONL files (``id``, ``text``, ``source``); the first holds 70% of the documents
   so that, at 50 MB, it is split into several 16 MiB work units by the default recipe.
2. **Baseline: bare fugashi.** ``fugashi.GenericTagger('-Owakati -r <unidic_lite>/mecabrc -d
   <unidic_lite>')`` and ``tagger.parse()`` per document (documents over 4096 characters in
   newline-cut chunks, exactly like the pipeline's ``mecab`` step), timed over the parse loop only
   (the text is loaded and the tagger created before the clock starts):
   - *1 core*: in the main process of a child Python process;
   - *2 processes*: two spawned processes, each parsing every other document, started together
     behind a barrier; seconds = first start to last finish. This is a real measurement; the
     "ideal 2-core" line (2 x the 1-core rate) is computed, not measured.
3. **The build.** ``jmedcorpus build --input <the 4 files> --output OUT --workers N
   --no-progress --json`` as a subprocess with the default recipe (normalize, MeCab, fastText
   language id, quality filters, exact dedup, sharded Parquet). Seconds = wall clock of the
   whole command: Python start and imports, Ray start and shutdown included (the package is
   byte-compiled first, as ``pip install .`` does). The manifest's
   ``timing_seconds`` (process / dedup / publish / total, measured inside ``build()``, Ray start
   included, interpreter start not) is reported as well.
4. **Memory.** A background thread samples, every 0.2 s, the RSS of every process in the tree of
   the measured child (the build: the CLI driver, gcs_server, raylet, Ray workers and Ray's
   helper processes) and reports the peak of the total and of the largest single process (for
   the build: the largest Ray worker, and the driver). RSS counts shared pages (libraries, Ray's
   shared-memory object store) once per process, so the total over-states the real footprint.

Prints a Markdown table (and writes all figures to ``--json PATH`` if given). Never prints
document text. The machine is assumed noisy: run it more than once before trusting a digit.

usage:
    python bench/bench_build.py --mb 50 --workers 2
    python bench/bench_build.py --mb 5 --json /tmp/bench.json --keep --workdir /tmp/jb
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MB = 1_000_000  # rates are in 10^6 bytes of UTF-8 text per second
SOURCES = {"case_reports.jsonl": "case_reports", "igakuqa_2018_2022_ja.jsonl": "igakuqa_ja"}
FILE_SHARES = [0.70, 0.10, 0.10, 0.10]  # the first file is split into several work units at 50 MB
SENTENCE_END = re.compile(r"(?<=[。．\n])")
CHUNK_CHARS = 4096  # = jmedcorpus.text.mecab.DEFAULT_CHUNK_CHARS
SAMPLE_EVERY_S = 0.2


# ----------------------------------------------------------------------------- input generation


def load_sentences(data_dir: Path) -> dict[str, list[str]]:
    """Sentences of the real Japanese samples, per source (terminators kept)."""
    pools: dict[str, list[str]] = {}
    for name, source in SOURCES.items():
        path = data_dir / name
        if not path.exists():
            sys.exit(f"bench_build: missing {path} (use --data-dir)")
        sentences = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line)["text"]
                sentences.extend(s for s in SENTENCE_END.split(text) if s.strip())
        pools[source] = sentences
    return pools


def generate_input(data_dir: Path, target_mb: float, seed: int, out_dir: Path) -> dict:
    """Write >= target_mb MB of distinct synthetic documents as JSONL files; return a summary."""
    pools = load_sentences(data_dir)
    rng = random.Random(seed)
    sources = sorted(pools)
    target = int(target_mb * MB)
    seen: set[int] = set()
    docs: list[tuple[str, str]] = []
    total = collisions = 0
    while total < target:
        source = sources[rng.randrange(len(sources))]
        pool = pools[source]
        text = "".join(pool[rng.randrange(len(pool))] for _ in range(rng.randint(8, 40)))
        h = hash(text)
        if h in seen:
            collisions += 1
            continue
        seen.add(h)
        docs.append((source, text))
        total += len(text.encode("utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    files, start = [], 0
    for k, share in enumerate(FILE_SHARES):
        end = len(docs) if k == len(FILE_SHARES) - 1 else start + round(share * len(docs))
        path = out_dir / f"part-{k}.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for i in range(start, end):
                source, text = docs[i]
                rec = {"id": f"bench-{i:07d}", "text": text, "source": f"bench-synthetic/{source}"}
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        files.append({"path": str(path), "docs": end - start, "bytes": path.stat().st_size})
        start = end
    lengths = sorted(len(t.encode("utf-8")) for _, t in docs)
    return {
        "files": files,
        "docs": len(docs),
        "text_bytes": total,
        "jsonl_bytes": sum(f["bytes"] for f in files),
        "doc_bytes_median": lengths[len(lengths) // 2],
        "doc_bytes_p10": lengths[len(lengths) // 10],
        "doc_bytes_p90": lengths[len(lengths) * 9 // 10],
        "duplicates_resampled": collisions,
        "sentence_pool": {s: len(p) for s, p in pools.items()},
    }


# ----------------------------------------------------------------------------- memory sampling


def _role(cmdline: list[str], is_root: bool, root_role: str) -> str:
    if is_root:
        return root_role
    joined = " ".join(cmdline)
    if joined.startswith("ray::") or "default_worker.py" in joined:
        return "ray_worker"
    if "raylet" in joined:
        return "raylet"
    if "gcs_server" in joined:
        return "gcs_server"
    if cmdline and "python" in os.path.basename(cmdline[0]):
        script = next((os.path.basename(a) for a in cmdline[1:] if a.endswith(".py")), "")
        return f"python:{script}" if script else "python_child"
    return os.path.basename(cmdline[0]) if cmdline else "other"


class BackgroundThread:
    """A context manager running ``self._run`` in a daemon thread until the ``with`` block ends;
    ``_run`` polls ``self._stop``."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


class TreeSampler(BackgroundThread):
    """Samples the RSS of a process and all its descendants every ``every`` seconds."""

    def __init__(self, pid: int, root_role: str, every: float = SAMPLE_EVERY_S):
        import psutil

        super().__init__()

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.root_role = root_role
        self.every = every
        self.peak_total = 0
        self.peak_by_pid: dict[int, tuple[str, int]] = {}
        self.peak_processes = 0
        self.samples = 0
        self.roles: dict[int, str] = {}
        self.cpu_by_pid: dict[int, float] = {}

    def _run(self):
        ps = self.psutil
        while True:
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except ps.Error:
                procs = []
            total = n = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    cpu = p.cpu_times()
                    if p.pid not in self.roles:
                        self.roles[p.pid] = _role(p.cmdline(), p.pid == self.root.pid, self.root_role)
                    role = self.roles[p.pid]
                    if role == "python_child":  # a Ray worker may not have set its title yet
                        role = self.roles[p.pid] = _role(p.cmdline(), False, self.root_role)
                except ps.Error:
                    continue
                total += rss
                n += 1
                self.cpu_by_pid[p.pid] = cpu.user + cpu.system
                if rss > self.peak_by_pid.get(p.pid, ("", 0))[1]:
                    self.peak_by_pid[p.pid] = (role, rss)
            if n:
                self.samples += 1
                self.peak_total = max(self.peak_total, total)
                self.peak_processes = max(self.peak_processes, n)
            if self._stop.wait(self.every):
                return

    def summary(self) -> dict:
        by_role: dict[str, int] = {}
        count: dict[str, int] = {}
        for role, rss in self.peak_by_pid.values():
            by_role[role] = max(by_role.get(role, 0), rss)
            count[role] = count.get(role, 0) + 1
        largest = max(self.peak_by_pid.values(), key=lambda x: x[1], default=("", 0))
        cpu_by_role: dict[str, float] = {}
        for pid, cpu in self.cpu_by_pid.items():
            role = self.roles.get(pid, "other")
            cpu_by_role[role] = cpu_by_role.get(role, 0.0) + cpu
        return {
            "peak_total_rss_mb": round(self.peak_total / MB, 1),
            "peak_single_process_rss_mb": round(largest[1] / MB, 1),
            "peak_single_process_role": largest[0],
            "peak_rss_mb_by_role": {k: round(v / MB, 1) for k, v in sorted(by_role.items())},
            "processes_by_role": dict(sorted(count.items())),
            "max_processes_at_once": self.peak_processes,
            # user+system CPU seconds per role, as last sampled (up to 0.2 s short per process)
            "cpu_seconds_by_role": {k: round(v, 1) for k, v in sorted(cpu_by_role.items())},
            "samples": self.samples,
        }


def run_measured(cmd: list[str], root_role: str, env: dict | None = None) -> tuple[dict, str, float]:
    """Run ``cmd``, sampling its process tree; return (memory summary, stdout, wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    with TreeSampler(proc.pid, root_role) as sampler:
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        # the jmedcorpus CLI and the baseline child never put document text in their errors
        sys.exit(f"bench_build: {cmd[1:3]} exited {proc.returncode}:\n{err[-3000:]}")
    return sampler.summary(), out, wall


# ----------------------------------------------------------------------------- fugashi baseline


def _tagger():
    import fugashi
    import unidic_lite

    d = unidic_lite.DICDIR
    return fugashi.GenericTagger(f'-Owakati -r "{d}/mecabrc" -d "{d}"')


def _load_texts(files: list[str], share: int, nshares: int) -> list[str]:
    texts, i = [], 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if i % nshares == share:
                    texts.append(json.loads(line)["text"])
                i += 1
    return texts


def _parse_all(tagger, texts: list[str]) -> int:
    """Parse every text like the pipeline's mecab step (bounded, newline-cut chunks)."""
    from jmedcorpus.text.mecab import iter_chunks

    parse = tagger.parse
    n_out = 0
    for text in texts:
        if len(text) <= CHUNK_CHARS:
            n_out += len(parse(text))
        else:
            for chunk in iter_chunks(text, CHUNK_CHARS):
                n_out += len(parse(chunk))
    return n_out


def _share_worker(files, share, nshares, barrier, results):
    texts = _load_texts(files, share, nshares)
    tagger = _tagger()
    tagger.parse("ウォームアップ。")  # load the dictionary before the clock starts
    barrier.wait()
    t0 = time.time()
    n_out = _parse_all(tagger, texts)
    t1 = time.time()
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    results.put(
        {"share": share, "start": t0, "end": t1, "docs": len(texts), "bytes": nbytes, "out_chars": n_out}
    )


def fugashi_child(files: list[str], nprocs: int) -> None:
    """Entry point of the baseline child process: print one JSON line of timings."""
    if nprocs == 1:
        texts = _load_texts(files, 0, 1)
        tagger = _tagger()
        tagger.parse("ウォームアップ。")
        t0 = time.time()
        _parse_all(tagger, texts)
        seconds = time.time() - t0
        print(
            json.dumps({"seconds": seconds, "docs": len(texts), "per_process_seconds": [round(seconds, 3)]})
        )
        return
    ctx = mp.get_context("spawn")  # clean workers: no copy of this process's memory
    barrier, results = ctx.Barrier(nprocs), ctx.Queue()
    procs = [
        ctx.Process(target=_share_worker, args=(files, k, nprocs, barrier, results)) for k in range(nprocs)
    ]
    for p in procs:
        p.start()
    rows = [results.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            sys.exit(f"fugashi worker exited {p.exitcode}")
    seconds = max(r["end"] for r in rows) - min(r["start"] for r in rows)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "docs": sum(r["docs"] for r in rows),
                "per_process_seconds": [
                    round(r["end"] - r["start"], 3) for r in sorted(rows, key=lambda r: r["share"])
                ],
            }
        )
    )


def run_fugashi(files: list[str], nprocs: int, text_bytes: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_fugashi-child", str(nprocs), "--_files", *files]
    mem, out, wall = run_measured(cmd, "baseline_main")
    r = json.loads(out.strip().splitlines()[-1])
    return {
        "name": f"fugashi parse, {'1 core (main process)' if nprocs == 1 else f'{nprocs} processes'}",
        "seconds": r["seconds"],
        "mb_per_s": text_bytes / MB / r["seconds"],
        "docs_per_s": r["docs"] / r["seconds"],
        "per_process_seconds": r["per_process_seconds"],
        "child_wall_seconds": wall,
        "memory": mem,
    }


# ----------------------------------------------------------------------------- the build


def byte_compile_package(python: str = sys.executable) -> None:
    """Write the package's ``.pyc`` files, as ``pip install .`` does, before timing a command.

    An editable install leaves bytecode to the first import, and a machine with
    ``PYTHONDONTWRITEBYTECODE=1`` (this project's) never writes it: every command then compiles
    the package from source (0.065 s of each start), which the compared tools, installed with
    their bytecode, do not pay."""
    package = Path(__file__).resolve().parents[1] / "jmedcorpus"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([python, "-m", "compileall", "-q", str(package)], check=True, env=env)


def run_build(files: list[str], out_dir: Path, workers: int, text_bytes: int, docs: int) -> dict:
    cmd = [
        sys.executable,
        "-c",
        "import sys; from jmedcorpus.cli import main; sys.exit(main())",
        "build",
        "--input",
        *files,
        "--output",
        str(out_dir),
        "--workers",
        str(workers),
        "--no-progress",
        "--json",
    ]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    mem, _out, wall = run_measured(cmd, "build_driver", env=env)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    timing = manifest["timing_seconds"]
    dedup = next((s for s in manifest["steps"] if s["use"] == "exact_dedup"), {})
    removed_by_step = {s["name"]: s["removed"] for s in manifest["steps"] if s["removed"]}
    return {
        "name": f"jmedcorpus build, {workers} workers (wall clock of the command)",
        "seconds": wall,
        "mb_per_s": text_bytes / MB / wall,
        "docs_per_s": docs / wall,
        "manifest_timing_seconds": timing,
        "manifest_mb_per_s": text_bytes / MB / timing["total"],
        "work_units": manifest["work_units"],
        "counts": {k: manifest["counts"][k] for k in ("records_in", "kept", "removed", "quarantined")},
        "removed_by_step": removed_by_step,
        "exact_dedup_removed": dedup.get("removed", 0),
        "shards": len(manifest["shards"]),
        "memory": mem,
    }


# ----------------------------------------------------------------------------- report


def report(res: dict) -> str:
    inp, one, two, b = res["input"], res["fugashi_1"], res["fugashi_2"], res["build"]
    lines = [
        f"jmedcorpus build throughput benchmark, {res['date']}, {res['cpus']} CPUs, workers={res['workers']}, seed={res['seed']}",
        "",
        "| input | text MB (UTF-8, 10^6 B) | docs | JSONL MB | files | work units | doc bytes p10/median/p90 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        (
            f"| synthetic from real samples | {inp['text_bytes'] / MB:.1f} | {inp['docs']:,} | {inp['jsonl_bytes'] / MB:.1f} "
            f"| {len(inp['files'])} | {b['work_units']} | {inp['doc_bytes_p10']}/{inp['doc_bytes_median']}/{inp['doc_bytes_p90']} |"
        ),
        "",
        "| run | seconds | MB/s | docs/s | peak RSS total (MB) | peak RSS largest process (MB) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in (one, two):
        m = r["memory"]
        lines.append(
            f"| {r['name']} | {r['seconds']:.1f} | {r['mb_per_s']:.2f} | {r['docs_per_s']:,.0f} "
            f"| {m['peak_total_rss_mb']:.0f} | {m['peak_single_process_rss_mb']:.0f} |"
        )
    lines.append(
        f"| fugashi ideal 2 cores = 2 x 1 core (computed, not measured) | {one['seconds'] / 2:.1f} "
        f"| {2 * one['mb_per_s']:.2f} | {2 * one['docs_per_s']:,.0f} | | |"
    )
    m = b["memory"]
    # Ray workers, or the forked worker processes of the processes engine
    worker_peak = m["peak_rss_mb_by_role"].get("ray_worker") or m["peak_rss_mb_by_role"].get(
        "python_child", 0
    )
    lines.append(
        f"| {b['name']} | {b['seconds']:.1f} | {b['mb_per_s']:.2f} | {b['docs_per_s']:,.0f} "
        f"| {m['peak_total_rss_mb']:.0f} | {worker_peak:.0f} (largest worker) |"
    )
    t = b["manifest_timing_seconds"]
    lines.append(
        f"| build, manifest `timing_seconds.total` (no interpreter start) | {t['total']:.1f} "
        f"| {b['manifest_mb_per_s']:.2f} | {inp['docs'] / t['total']:,.0f} | | |"
    )
    lines += [
        "",
        (
            f"- **build MB/s / fugashi 2-process MB/s = {b['mb_per_s'] / two['mb_per_s']:.3f}**"
            f" (manifest total: {b['manifest_mb_per_s'] / two['mb_per_s']:.3f})"
        ),
        (
            f"- build MB/s / fugashi 1-core MB/s = {b['mb_per_s'] / one['mb_per_s']:.3f}"
            f" (manifest total: {b['manifest_mb_per_s'] / one['mb_per_s']:.3f})"
        ),
        (
            f"- manifest timing_seconds: process {t['process']:.1f}, dedup {t['dedup']:.1f}, publish {t['publish']:.1f}, "
            f"total {t['total']:.1f}; command wall {b['seconds']:.1f} (the difference is interpreter start, imports, exit)"
        ),
        f"- fugashi 2-process per-process parse seconds: {two['per_process_seconds']}",
        (
            f"- build: records in {b['counts']['records_in']:,}, kept {b['counts']['kept']:,}, removed {b['counts']['removed']:,} "
            f"(by step: {b['removed_by_step'] or 'none'}), quarantined {b['counts']['quarantined']:,}; {b['shards']} shard(s)"
        ),
        (
            f"- build peak RSS by role (MB, per-process peak): {m['peak_rss_mb_by_role']}; "
            f"processes seen: {m['processes_by_role']}; at most {m['max_processes_at_once']} at once"
        ),
        (
            f"- build CPU seconds by role (user+system, last sample): {m['cpu_seconds_by_role']} "
            f"= {sum(m['cpu_seconds_by_role'].values()):.1f} CPU-s in {b['seconds']:.1f} s wall on {res['cpus']} CPUs"
        ),
        "- RSS totals count shared pages (libraries, Ray's shared-memory object store) once per process.",
    ]
    if res.get("build_1_worker"):
        s = res["build_1_worker"]
        lines.append(
            f"- **scaling: {res['workers']} workers vs 1 = {res['scaling_workers_vs_1']:.2f}x** "
            f"(1 worker {s['seconds']:.1f} s, {s['mb_per_s']:.2f} MB/s; {res['workers']} workers {b['seconds']:.1f} s)"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument(
        "--mb", type=float, default=50, help="MB (10^6 bytes) of UTF-8 text to generate (default 50)"
    )
    ap.add_argument("--workers", type=int, default=2, help="--workers of the build (default 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--workdir", type=Path, help="where the input and output go (default: a temporary directory)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated input and the build output")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    ap.add_argument(
        "--scaling", action="store_true", help="also build with 1 worker and report the N-vs-1 speed-up"
    )
    ap.add_argument("--_fugashi-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--_files", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._fugashi_child:
        fugashi_child(args._files, args._fugashi_child)
        return

    temporary = args.workdir is None
    work = Path(tempfile.mkdtemp(prefix="jmedcorpus-bench-")) if temporary else args.workdir.resolve()
    in_dir, out_dir = work / "bench_build-input", work / "bench_build-output"
    for d in (in_dir, out_dir):  # only this benchmark's own subdirectories
        if d.exists():
            shutil.rmtree(d)
    try:
        t0 = time.perf_counter()
        inp = generate_input(args.data_dir, args.mb, args.seed, in_dir)
        files = [f["path"] for f in inp["files"]]
        print(
            f"generated {inp['docs']:,} documents, {inp['text_bytes'] / MB:.1f} MB of text in {len(files)} files "
            f"({time.perf_counter() - t0:.1f}s); measuring fugashi 1 core ...",
            file=sys.stderr,
        )
        one = run_fugashi(files, 1, inp["text_bytes"])
        print(f"fugashi 1 core: {one['mb_per_s']:.2f} MB/s; fugashi 2 processes ...", file=sys.stderr)
        two = run_fugashi(files, 2, inp["text_bytes"])
        print(f"fugashi 2 processes: {two['mb_per_s']:.2f} MB/s; build ...", file=sys.stderr)
        byte_compile_package()
        b = run_build(files, out_dir, args.workers, inp["text_bytes"], inp["docs"])
        single = None
        if args.scaling and args.workers > 1:
            print("build with 1 worker (scaling) ...", file=sys.stderr)
            shutil.rmtree(out_dir, ignore_errors=True)
            single = run_build(files, out_dir, 1, inp["text_bytes"], inp["docs"])
        res = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S%z"),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "workers": args.workers,
            "seed": args.seed,
            "input": {**inp, "files": [{k: v for k, v in f.items() if k != "path"} for f in inp["files"]]},
            "fugashi_1": one,
            "fugashi_2": two,
            "fugashi_ideal_2_computed_mb_per_s": 2 * one["mb_per_s"],
            "build": b,
            "ratio_build_to_fugashi_2proc": b["mb_per_s"] / two["mb_per_s"],
            "ratio_build_to_fugashi_1core": b["mb_per_s"] / one["mb_per_s"],
            "build_1_worker": single,
            "scaling_workers_vs_1": single["seconds"] / b["seconds"] if single else None,
        }
        print(report(res))
        if args.json:
            args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        elif temporary:
            shutil.rmtree(work, ignore_errors=True)
        else:
            for d in (in_dir, out_dir):
                shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
