"""``jmedcorpus build``'s command line: its options, and the summary it prints."""

from __future__ import annotations

import argparse
import json
import os
import sys

from jmedcorpus.cli_options import add_cluster, add_engine, add_input, add_output, add_reporting

BUILD_EPILOG = """\
examples:
  jmedcorpus build --input samples/ --output out/
  jmedcorpus build recipes/ja_medical.yaml --input 'data/**/*.jsonl.zst' papers.parquet --output out/ --workers 8
  jmedcorpus build my_recipe.yaml --input notes/ --text-field body --output out/ --ray-address auto
  jmedcorpus build --input papers/ reports.jsonl --output out/ --decontaminate-against igakuqa.jsonl jmmlu_med.csv
  AWS_ENDPOINT_URL=http://minio:9000 jmedcorpus build --input s3://raw/ja/ --output s3://built/ja-v1/

output (see README "Output"):
  OUT/data/train-XXXXX-of-YYYYY.parquet   kept documents: id, text, source, signal columns
  OUT/removed/<step>/part-*.parquet        every dropped document with step, reason, duplicate_of
  OUT/quarantine/part-*.parquet            unreadable input records: file, line, offset, error, raw
  OUT/manifest.json                        resolved recipe, versions, inputs, counts per step and reason
A killed build resumes when re-run with the same command; an unchanged build is not redone.
"""


def add_build_parser(subparsers) -> None:
    """Add ``build`` to the ``jmedcorpus`` subcommands; it runs :func:`cmd_build`."""
    b = subparsers.add_parser(
        "build",
        help="read, normalize, tokenize, filter and deduplicate documents into Parquet shards",
        description="Build a training corpus: read → normalize → MeCab → language and quality filters → exact dedup → sharded Parquet, on Ray.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=BUILD_EPILOG,
    )
    b.add_argument(
        "recipe",
        nargs="?",
        metavar="RECIPE",
        help="YAML recipe (default: the shipped recipes/ja_medical.yaml)",
    )
    add_input(
        b,
        "PATH",
        "input files, directories (searched recursively) or quoted globs; JSONL (.jsonl, .gz, .zst; .json "
        "arrays), Parquet, .txt, JATS XML (.xml, .nxml) and tar archives of it (.tar.gz: PMC bulk packages); "
        "or an object-store URL (s3://bucket/prefix, gs://...: mirrored into $JMEDCORPUS_CACHE); repeatable",
    )
    add_output(
        b,
        "OUT",
        "output directory (created; re-running on it resumes), or an object-store URL "
        "(e.g. s3://bucket/built: built in a local working copy, then uploaded with manifest.json last)",
    )
    add_cluster(
        b,
        "processes (or CPUs of the embedded local Ray) on this machine, and tasks in flight on a "
        "cluster (default: all CPUs)",
        "run on an existing Ray cluster (e.g. 'auto' or 'ray://head:10001') instead of a local Ray",
    )
    add_engine(b, "a local build")
    b.add_argument(
        "--text-field", metavar="NAME", help="override the recipe's input text field (default 'text')"
    )
    b.add_argument("--id-field", metavar="NAME", help="override the recipe's input id field (default 'id')")
    b.add_argument(
        "--decontaminate-against",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="benchmark items (JSONL, CSV or Parquet; e.g. IgakuQA) whose documents are removed "
        "(adds the `decontaminate` step before the global steps; reason decontam_benchmark)",
    )
    b.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an output that was built with another recipe (without it such a build is refused, "
        "naming what changed); e.g. jmedcorpus build strict.yaml --input in/ --output out/ --overwrite",
    )
    add_reporting(b, "print the manifest's counts as JSON instead of a summary")


def cmd_build(args) -> int:
    from jmedcorpus.io import remote
    from jmedcorpus.io.parquet import skip_pandas_probe
    from jmedcorpus.pipelines.build import BuildOptions, build
    from jmedcorpus.recipe import add_decontamination, load_recipe

    skip_pandas_probe()
    progress = not args.no_progress and sys.stderr.isatty()
    recipe = load_recipe(args.recipe)
    # object storage (s3://...): a local working copy in, a local working copy out, then upload
    output = args.output
    if remote.is_remote(output):
        remote.check_remote_output(output)
        output = remote.working_copy(output, "outputs")
    inputs = [remote.stage_input(p, progress) if remote.is_remote(p) else p for p in args.input]
    if args.text_field:
        recipe.input.text_field = args.text_field
    if args.id_field:
        recipe.input.id_field = args.id_field
    if args.decontaminate_against:
        add_decontamination(recipe, args.decontaminate_against)
    opts = BuildOptions(
        inputs=inputs,
        output=output,
        recipe=recipe,
        ray_address=args.ray_address,
        engine=args.engine,
        progress=progress,
        overwrite=args.overwrite,
    )
    if args.workers is not None:
        opts.workers = args.workers
    manifest = build(opts)
    if output != args.output:
        remote.upload_output(output, args.output, progress)
    if args.json:
        print(
            json.dumps(
                {
                    "output": remote.display_url(args.output)
                    if output != args.output
                    else os.path.abspath(output),
                    "counts": manifest["counts"],
                    "steps": manifest["steps"],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(summary(manifest, args.output))
    return 0


def summary(m: dict, out: str) -> str:
    c, out = m["counts"], out.rstrip("/") or "/"
    lines = []
    if m.get("up_to_date"):
        lines.append(f"{out}: up to date (same recipe and inputs as the existing build); nothing to do")
    lines.append(
        f"records in {c['records_in']:,}  kept {c['kept']:,}  removed {c['removed']:,}  quarantined {c['quarantined']:,}"
    )
    lines.append(
        f"kept {c['kept_chars']:,} characters, {c['kept_mecab_tokens']:,} MeCab tokens in {len(m['shards'])} shard(s) under {out}/data"
    )
    lines.append(f"{'step':<24}{'in':>10}{'out':>10}  top reasons")
    for s in m["steps"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in list(s["reasons"].items())[:3])
        lines.append(f"{s['name']:<24}{s['in']:>10,}{s['out']:>10,}  {reasons}")
    if c["quarantined"]:
        q = ", ".join(f"{k} {v:,}" for k, v in c["quarantined_by_error"].items())
        lines.append(f"quarantined: {q} (see {out}/quarantine)")
    for step in m["steps"]:
        if step["name"] == "duplicate_ids" and step["removed"]:
            lines.append(
                f"warning: {step['removed']:,} document(s) reuse an id an earlier one has; removed to "
                f"{out}/removed/duplicate_ids (give unique ids, or drop the id field to derive them)"
            )
    lines += m.get("hints", [])  # each starts with "warning:" or "note:"
    return "\n".join(lines)
