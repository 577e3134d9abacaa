"""``jmedcorpus tokenize``'s command line."""

from __future__ import annotations

import argparse
import json
import sys

from jmedcorpus.cli_options import add_cluster, add_engine, add_reporting

TOKENIZE_EPILOG = """\
examples:
  jmedcorpus tokenize out/ --tokenizer /models/llm-jp-3-1.8b --output tok/
  jmedcorpus tokenize out/ --tokenizer ./tok-dir --output tok/ --mix medtxt-cr=2 igakuqa=1 '*=0.5'
  jmedcorpus tokenize out/ --recipe mix.yaml --output tok/ --shard-tokens 500M --workers 8
  jmedcorpus tokenize out/ --tokenizer ./tok-dir --output tok/ --group-by '^([a-z]+)' --eos-id 2
  jmedcorpus tokenize out/ --tokenizer ./tok-dir --output tok/ --data-root /lustre/tok --ray-address auto
  jmedcorpus tokenize out/ --tokenizer ./other-tok --output tok/ --overwrite --no-progress --json

mix.yaml (options on the command line win; --mix adds to mix):
  tokenize:
    tokenizer: /models/llm-jp-3-1.8b
    mix: {medtxt-cr: 2, igakuqa: 1}

output (see README "Training-ready token shards"):
  TOK/<group>/part-NNNNN.bin, .idx    Megatron-LM indexed datasets (MMIDIDX), one sequence per document + EOS
  TOK/data_paths.txt                  "weight prefix" per shard: Megatron's --data-args-path (or --data-path list)
  TOK/manifest.json                   tokenizer (path, sha256, vocab, EOS), tokens per group, source and shard, mix
A killed run resumes when re-run with the same command; another tokenizer on the same output is refused.
"""


def add_tokenize_parser(subparsers) -> None:
    """Add ``tokenize`` to the ``jmedcorpus`` subcommands; it runs :func:`cmd_tokenize`."""
    p = subparsers.add_parser(
        "tokenize",
        help="tokenize a built corpus into Megatron-LM indexed datasets (.bin/.idx) with a data-path mix",
        description="Tokenize the kept documents of a complete build with a local Hugging Face tokenizer (EOS "
        "after each document) into Megatron-LM .bin/.idx shards per source group, on Ray, and write the weighted "
        "--data-path list of a mix.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=TOKENIZE_EPILOG,
    )
    p.add_argument(
        "corpus", metavar="OUT", help="output of `jmedcorpus build` (needs OUT/manifest.json); e.g. out/"
    )
    p.add_argument(
        "--tokenizer",
        "-t",
        metavar="PATH",
        help="local tokenizer or model directory for AutoTokenizer (fast tokenizers only; nothing is "
        "downloaded); e.g. --tokenizer /models/llm-jp-3-1.8b",
    )
    p.add_argument(
        "--output", "-o", required=True, metavar="TOK", help="output directory; e.g. --output tok/"
    )
    p.add_argument(
        "--recipe",
        metavar="YAML",
        help="YAML file with a tokenize: section (tokenizer, eos_id, group_by, shard_tokens, mix, data_root); "
        "e.g. --recipe mix.yaml",
    )
    p.add_argument(
        "--eos-id",
        type=int,
        metavar="N",
        help="id appended after every document (default: the tokenizer's eos_token_id); e.g. --eos-id 2",
    )
    p.add_argument(
        "--shard-tokens",
        metavar="N",
        help="most tokens per .bin shard (a longer document gets a shard of its own); default 1e9 "
        "(2 GB in uint16); e.g. --shard-tokens 500M",
    )
    p.add_argument(
        "--group-by",
        metavar="REGEX",
        help="regular expression on the `source` column: its first group (or the match) names the document's "
        "group, 'other' if no match; default '^[^/]+' (first path component); e.g. --group-by '^(pmc|medtxt)'",
    )
    p.add_argument(
        "--mix",
        nargs="+",
        action="extend",
        default=[],
        metavar="GROUP=WEIGHT",
        help="sampling weight per token of a group ('*' for groups not named, default 1; 0 leaves a group out "
        "of data_paths.txt); e.g. --mix medtxt-cr=2 igakuqa=1",
    )
    p.add_argument(
        "--data-root",
        metavar="DIR",
        help="directory TOK will have on the training machines, written into data_paths.txt (default: TOK's "
        "absolute path); e.g. --data-root /lustre/data/tok",
    )
    add_cluster(
        p,
        "tokenizing tasks at a time, one CPU each (default: all CPUs); e.g. --workers 8",
        "run on an existing Ray cluster; e.g. --ray-address auto",
    )
    add_engine(p, "a local corpus")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an output made with another tokenizer or settings; e.g. --overwrite",
    )
    add_reporting(p, "print the manifest's totals, groups and mix as JSON; e.g. --json")


def cmd_tokenize(args) -> int:
    from jmedcorpus.pipelines.tokenize import tokenize
    from jmedcorpus.tokenize.manifest import summary
    from jmedcorpus.tokenize.settings import resolve_options

    opts = resolve_options(
        args.recipe,
        args.corpus,
        args.output,
        mix=args.mix,
        tokenizer=args.tokenizer,
        eos_id=args.eos_id,
        shard_tokens=args.shard_tokens,
        group_by=args.group_by,
        data_root=args.data_root,
        workers=args.workers,
        ray_address=args.ray_address,
        engine=args.engine,
        progress=not args.no_progress and sys.stderr.isatty(),
        overwrite=args.overwrite,
    )
    m = tokenize(opts)
    if args.json:
        keys = ("totals", "groups", "mix", "tokenizer", "run", "up_to_date")
        print(json.dumps({k: m[k] for k in keys if k in m}, ensure_ascii=False, indent=2))
    else:
        print(summary(m, args.output))
    return 0
