"""The ``jmedcorpus`` command. Thin: parses arguments, calls the package, prints results.

Errors the user can fix are one line on stderr and exit code 2; a build whose tasks failed exits
1 with a per-task summary. No document text is ever printed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import textwrap

from jmedcorpus import __version__
from jmedcorpus.errors import UserError

BUILD_EPILOG = """\
examples:
  jmedcorpus build --input samples/ --output out/
  jmedcorpus build recipes/ja_medical.yaml --input 'data/**/*.jsonl.zst' papers.parquet --output out/ --workers 8
  jmedcorpus build my_recipe.yaml --input notes/ --text-field body --output out/ --ray-address auto

output (see README "Output"):
  OUT/data/train-XXXXX-of-YYYYY.parquet   kept documents: id, text, source, signal columns
  OUT/removed/<step>/part-*.parquet        every dropped document with step, reason, duplicate_of
  OUT/quarantine/part-*.parquet            unreadable input records: file, line, offset, error, raw
  OUT/manifest.json                        resolved recipe, versions, inputs, counts per step and reason
A killed build resumes when re-run with the same command; an unchanged build is not redone.
"""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jmedcorpus",
        description="Curate Japanese medical text into LLM training data.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `jmedcorpus COMMAND --help` for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"jmedcorpus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser(
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
    b.add_argument(
        "--input",
        "-i",
        nargs="+",
        action="extend",
        required=True,
        metavar="PATH",
        help="input files, directories (searched recursively) or quoted globs; JSONL (.jsonl, .gz, .zst), Parquet, .txt; repeatable",
    )
    b.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="OUT",
        help="output directory (created; re-running on it resumes)",
    )
    b.add_argument(
        "--workers",
        "-w",
        type=int,
        default=None,
        metavar="N",
        help="CPUs of the embedded local Ray, and tasks in flight on a cluster (default: all CPUs)",
    )
    b.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="run on an existing Ray cluster (e.g. 'auto' or 'ray://head:10001') instead of a local Ray",
    )
    b.add_argument(
        "--text-field", metavar="NAME", help="override the recipe's input text field (default 'text')"
    )
    b.add_argument("--id-field", metavar="NAME", help="override the recipe's input id field (default 'id')")
    b.add_argument("--no-progress", action="store_true", help="do not show progress bars")
    b.add_argument(
        "--json", action="store_true", help="print the manifest's counts as JSON instead of a summary"
    )

    s = sub.add_parser(
        "steps",
        help="list the steps a recipe can use, with their parameters and defaults",
        description="List every registered recipe step with its documentation and parameters.",
        epilog="example:\n  jmedcorpus steps hiragana_ratio",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("name", nargs="?", help="show only this step")
    return parser


def _cmd_build(args) -> int:
    import os

    from jmedcorpus.pipelines.build import BuildOptions, build
    from jmedcorpus.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    if args.text_field:
        recipe.input.text_field = args.text_field
    if args.id_field:
        recipe.input.id_field = args.id_field
    opts = BuildOptions(
        inputs=args.input,
        output=args.output,
        recipe=recipe,
        ray_address=args.ray_address,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    if args.workers is not None:
        opts.workers = args.workers
    manifest = build(opts)
    if args.json:
        print(
            json.dumps(
                {
                    "output": os.path.abspath(args.output),
                    "counts": manifest["counts"],
                    "steps": manifest["steps"],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(_summary(manifest, args.output))
    return 0


def _summary(m: dict, out: str) -> str:
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
    return "\n".join(lines)


def _cmd_steps(args) -> int:
    from jmedcorpus.recipe import _defaults
    from jmedcorpus.registry import registered_steps

    steps = registered_steps()
    if args.name and args.name not in steps:
        raise UserError(f"unknown step {args.name!r}; run `jmedcorpus steps` for the list")
    for name in sorted(steps) if not args.name else [args.name]:
        cls = steps[name]
        doc = inspect.getdoc(cls) or ""
        print(f"{name}  ({cls.__name__})")
        print(textwrap.indent(doc if args.name else doc.split("\n\n")[0], "    "))
        params = ", ".join(f"{k}={v!r}" for k, v in _defaults(cls).items())
        print(f"    parameters: {params or 'none'}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from jmedcorpus.pipelines.build import BuildFailed

    try:
        return {"build": _cmd_build, "steps": _cmd_steps}[args.command](args)
    except UserError as e:
        print(f"jmedcorpus: error: {e}", file=sys.stderr)
        return 2
    except BuildFailed as e:
        print(str(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("jmedcorpus: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
