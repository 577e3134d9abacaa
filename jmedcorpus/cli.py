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
from jmedcorpus.cli_options import add_cluster, add_engine, add_input, add_output, add_reporting
from jmedcorpus.errors import RunFailed, Terminated, UserError, on_sigterm_raise_terminated

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

    from jmedcorpus.pipelines.synth_cli import add_synth_parser

    add_synth_parser(sub)
    _add_tokenize_parser(sub)
    from jmedcorpus.domain.cli import add_train_domain_parser

    add_train_domain_parser(sub)
    from jmedcorpus.report.stats_cli import add_stats_parser

    add_stats_parser(sub)
    from jmedcorpus.report.inspect import add_inspect_parser

    add_inspect_parser(sub)

    s = sub.add_parser(
        "steps",
        help="list the steps a recipe can use, with their parameters and defaults",
        description="List every registered recipe step with its documentation and parameters.",
        epilog="example:\n  jmedcorpus steps hiragana_ratio",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("name", nargs="?", help="show only this step")
    return parser


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


def _add_tokenize_parser(sub) -> None:
    p = sub.add_parser(
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


def _cmd_tokenize(args) -> int:
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


def _cmd_build(args) -> int:
    import os

    from jmedcorpus.io import remote
    from jmedcorpus.pipelines.build import BuildOptions, build
    from jmedcorpus.recipe import load_recipe

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
        _add_decontamination(recipe, args.decontaminate_against)
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
        print(_summary(manifest, args.output))
    return 0


def _add_decontamination(recipe, files: list[str]) -> None:
    """Insert a ``decontaminate`` step against ``files`` before the first global step (or add
    the files to the recipe's own ``decontaminate`` step); a bad file is a one-line error."""
    import os

    from jmedcorpus.recipe import StepSpec
    from jmedcorpus.registry import registered_steps

    for f in files:
        if not os.path.isfile(f):
            raise UserError(
                f"--decontaminate-against {f}: no such file; give a JSONL, CSV or Parquet benchmark file"
            )
    paths = [os.path.abspath(f) for f in files]  # Ray workers may run in another directory
    spec = next((s for s in recipe.steps if s.use == "decontaminate"), None)
    if spec is None:
        classes = registered_steps()
        at = next(
            (i for i, s in enumerate(recipe.steps) if getattr(classes[s.use], "is_global", False)), None
        )
        spec = StepSpec("decontaminate", {"benchmarks": []})
        recipe.steps.insert(len(recipe.steps) if at is None else at, spec)
    spec.params["benchmarks"] = list(spec.params.get("benchmarks", [])) + paths
    try:
        registered_steps()["decontaminate"](**spec.params)  # loads the files: fails before the build
    except ValueError as e:
        raise UserError(f"--decontaminate-against: {e}") from None


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
    for step in m["steps"]:
        if step["name"] == "duplicate_ids" and step["removed"]:
            lines.append(
                f"warning: {step['removed']:,} document(s) reuse an id an earlier one has; removed to "
                f"{out}/removed/duplicate_ids (give unique ids, or drop the id field to derive them)"
            )
    lines += m.get("hints", [])  # each starts with "warning:" or "note:"
    return "\n".join(lines)


def _cmd_steps(args) -> int:
    from jmedcorpus.recipe import step_defaults
    from jmedcorpus.registry import registered_steps

    steps = registered_steps()
    if args.name and args.name not in steps:
        raise UserError(f"unknown step {args.name!r}; run `jmedcorpus steps` for the list")
    for name in sorted(steps) if not args.name else [args.name]:
        cls = steps[name]
        doc = inspect.getdoc(cls) or ""
        print(f"{name}  ({cls.__name__})")
        print(textwrap.indent(doc if args.name else doc.split("\n\n")[0], "    "))
        params = ", ".join(f"{k}={v!r}" for k, v in step_defaults(cls).items())
        print(f"    parameters: {params or 'none'}")
        if args.name:  # the step's contract: what it writes and what each value is compared with
            from jmedcorpus.report.stats import kind_of

            fields = getattr(cls, "signal_fields", {})
            signals = [*fields, *getattr(cls, "other_signals", ())]
            kinds = [kind_of(n) if fields.get(n) != "string" else "label" for n in signals]
            print(f"    signals: {', '.join(f'{n} ({k})' for n, k in zip(signals, kinds)) or 'none'}")
            rows = getattr(cls, "signal_thresholds", ())
            print(f"    thresholds: {'; '.join(f'{sig} {b} = {p}' for sig, b, p, _ in rows) or 'none'}")
            print(f"    reasons: {', '.join(getattr(cls, 'reasons', ())) or 'none (never drops)'}")
            after = getattr(cls, "must_follow", {})
            if after:
                print(f"    comes after: {', '.join(f'{s} ({why})' for s, why in after.items())}")
        print()
    return 0


def _command(name: str):
    """The function of one subcommand, importing only its own module (a build does not pay for
    the report's or synth's imports)."""
    import importlib

    local = {"build": _cmd_build, "tokenize": _cmd_tokenize, "steps": _cmd_steps}
    if name in local:
        return local[name]
    module, function = {
        "synth": ("jmedcorpus.pipelines.synth_cli", "cmd_synth"),
        "stats": ("jmedcorpus.report.stats_cli", "cmd_stats"),
        "inspect": ("jmedcorpus.report.inspect", "cmd_inspect"),
        "train-domain": ("jmedcorpus.domain.cli", "cmd_train_domain"),
    }[name]
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, or a usage error: argparse printed and exits
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # `jmedcorpus build --help | head`
            _silence_stdout()
        raise
    if not args.command:
        parser.print_help()
        return 2
    import signal

    previous = on_sigterm_raise_terminated()
    try:
        code = _command(args.command)(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except UserError as e:
        print(f"jmedcorpus: error: {e}", file=sys.stderr)
        return 2
    except RunFailed as e:
        print(str(e), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `jmedcorpus stats --json | head`: the reader left; that is not an error of ours.
        _silence_stdout()
        return 0
    except OSError as e:
        from jmedcorpus.io.outdir import os_error_message

        message = os_error_message(e, getattr(args, "output", None) or ".")
        if message is None:
            raise
        print(f"jmedcorpus: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jmedcorpus: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    except Terminated:
        print("jmedcorpus: terminated (SIGTERM); re-run the same command to resume", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's own flush at exit does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
